// Wrapper module: builds the etcd server binary. etcd's own go.mod carries replace directives
// (to its sibling modules in the etcd repo), so `go install ...@version` refuses it; requiring it
// from a wrapper module builds the published release instead. build.sh sets the version.
module longlora.dev/control-plane/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 v3.6.16

// Wrapper module: builds the helm v3 CLI from its published module. build.sh sets the version.
module longlora.dev/control-plane/helm

go 1.24.0

require helm.sh/helm/v3 v3.22.0

package dev.longlora.operator.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the control-plane binaries built by {@code tools/setup.d/10-control-plane.sh} live.
 *
 * <p>The setup script exports {@code LONGLORA_KUBE_BIN_DIR} (kube-apiserver, kubectl, etcd),
 * {@code LONGLORA_KUBE_VERSION} and {@code HELM} (the helm binary). System properties of the same
 * names (lower-case, dots: {@code longlora.kube.bin.dir}) take precedence, for IDE runs.
 *
 * @param binDir directory holding kube-apiserver, kubectl and etcd
 * @param kubeVersion the Kubernetes version they were built from, e.g. {@code 1.34.4}
 * @param helm the helm binary, if one was found
 */
public record ControlPlaneBinaries(Path binDir, String kubeVersion, Optional<Path> helm) {

    static final String BIN_DIR_VAR = "LONGLORA_KUBE_BIN_DIR";
    static final String VERSION_VAR = "LONGLORA_KUBE_VERSION";
    static final String HELM_VAR = "HELM";

    public Path kubectl() {
        return binDir.resolve("kubectl");
    }

    public Path kubeApiServer() {
        return binDir.resolve("kube-apiserver");
    }

    public Path etcd() {
        return binDir.resolve("etcd");
    }

    /**
     * Finds the binaries, or explains what is missing and how to get it.
     *
     * @return the binaries, or an error message naming the variable and the fix
     */
    public static Lookup locate() {
        String dir = setting(BIN_DIR_VAR);
        if (dir == null || dir.isBlank()) {
            return Lookup.missing(BIN_DIR_VAR + " is not set: run `source tools/setup.d/10-control-plane.sh`"
                    + " (bin/test does) to build kube-apiserver, kubectl and etcd");
        }
        Path binDir = Path.of(dir);
        for (String name : new String[] {"kube-apiserver", "kubectl", "etcd"}) {
            if (!Files.isExecutable(binDir.resolve(name))) {
                return Lookup.missing(BIN_DIR_VAR + "=" + dir + " has no executable " + name
                        + ": rerun tools/setup.d/10-control-plane.sh");
            }
        }
        String version = setting(VERSION_VAR);
        if (version == null || version.isBlank()) {
            return Lookup.missing(VERSION_VAR + " is not set: source tools/setup.d/10-control-plane.sh");
        }
        String helm = setting(HELM_VAR);
        Optional<Path> helmPath = Optional.ofNullable(helm)
                .filter(h -> !h.isBlank())
                .map(Path::of)
                .filter(Files::isExecutable);
        return new Lookup(Optional.of(new ControlPlaneBinaries(binDir, version, helmPath)), null);
    }

    private static String setting(String envName) {
        String property = System.getProperty(envName.toLowerCase().replace('_', '.'));
        return property != null ? property : System.getenv(envName);
    }

    /** The result of {@link #locate()}: binaries, or why there are none. */
    public record Lookup(Optional<ControlPlaneBinaries> binaries, String problem) {
        static Lookup missing(String problem) {
            return new Lookup(Optional.empty(), problem);
        }
    }
}

package dev.longlora.operator.it;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One kube-apiserver + etcd per JVM (test run), started on first use from the binaries that
 * {@link ControlPlaneBinaries} locates, with the repository's CRDs installed; stopped by a shutdown hook.
 *
 * <p>kube-api-test runs in offline mode: it is handed a directory laid out the way it expects
 * ({@code k8s/<version>-linux-amd64/} linked to the built binaries) and never downloads anything.
 * The server has no controller manager, scheduler or garbage collector: pods stay unscheduled
 * (set nodeName yourself if you need one), deleted owners leave their dependents behind, and
 * deleted namespaces stay Terminating. Check ownerReferences rather than garbage collection.
 */
public final class SharedApiServer {

    private static final String FIELD_MANAGER = "longlora-tests";
    /**
     * JVM-wide record of the running server's kubeconfig file. Quarkus tests load this class again in their own
     * class loader, where the static {@link #instance} is a different field; they attach to the server through this
     * property instead of starting a second one. (Not under "longlora.": Quarkus rejects unknown properties below
     * the operator's config root.)
     */
    private static final String KUBECONFIG_PROPERTY = "dev.longlora.tests.shared-api-server.kubeconfig";

    private static SharedApiServer instance;

    private final ControlPlaneBinaries binaries;
    private final String kubeconfigYaml;
    private final Path kubeconfig;
    private final KubernetesClient adminClient;

    /** Attaches to the server another class loader started. */
    private SharedApiServer(ControlPlaneBinaries binaries, Path kubeconfig) throws IOException {
        this.binaries = binaries;
        this.kubeconfig = kubeconfig;
        this.kubeconfigYaml = Files.readString(kubeconfig);
        this.adminClient = newClient();
    }

    /** Starts the server and installs the CRDs. */
    private SharedApiServer(ControlPlaneBinaries binaries) throws IOException {
        this.binaries = binaries;
        Path testDir = Files.createTempDirectory("longlora-kube-api-test");
        Path versionDir = testDir.resolve("k8s").resolve(binaries.kubeVersion() + "-linux-amd64");
        Files.createDirectories(versionDir.getParent());
        Files.createSymbolicLink(versionDir, binaries.binDir().toAbsolutePath());
        KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(testDir.toString())
                .withApiServerVersion(binaries.kubeVersion())
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .withStartupTimeout(120_000)
                .build());
        server.start();
        Path binDir = testDir.resolve("k8s");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, binDir), "stop-kube-apiserver"));
        this.kubeconfig = testDir.resolve("kubeconfig.yaml");
        this.kubeconfigYaml = server.getKubeConfigYaml();
        Files.writeString(kubeconfig, kubeconfigYaml);
        this.adminClient = newClient();
        installCrds();
    }

    /**
     * Stops the server at JVM exit. If kube-api-test cannot (e.g. a Quarkus test class loader that started it is
     * closed by then), kills the etcd and kube-apiserver processes it started directly, so none outlive the tests.
     */
    private static void stop(KubeAPIServer server, Path binDir) {
        try {
            server.stop();
        } catch (Throwable e) {
            ProcessHandle.current()
                    .descendants()
                    .filter(p -> p.info()
                            .command()
                            .map(c -> c.startsWith(binDir.toString()))
                            .orElse(false))
                    .forEach(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * The shared server, started on first call.
     *
     * @throws IllegalStateException when the binaries are missing (callers decide whether to skip)
     */
    public static SharedApiServer get() {
        // A string literal is one object JVM-wide, so this lock holds across class loaders too.
        synchronized ("longlora.tests.shared-api-server") {
            if (instance == null) {
                ControlPlaneBinaries.Lookup lookup = ControlPlaneBinaries.locate();
                ControlPlaneBinaries found =
                        lookup.binaries().orElseThrow(() -> new IllegalStateException(lookup.problem()));
                String running = System.getProperty(KUBECONFIG_PROPERTY);
                try {
                    instance =
                            running != null ? new SharedApiServer(found, Path.of(running)) : new SharedApiServer(found);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not start kube-apiserver from " + found.binDir(), e);
                }
                System.setProperty(KUBECONFIG_PROPERTY, instance.kubeconfig.toString());
            }
            return instance;
        }
    }

    /** A new client with cluster-admin rights; close it when done (or use {@link #client()}). */
    public KubernetesClient newClient() {
        Config config = Config.fromKubeconfig(kubeconfigYaml);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** The shared cluster-admin client; do not close it. */
    public KubernetesClient client() {
        return adminClient;
    }

    /** The kubeconfig file for this server (cluster-admin), for tools and for an operator under test. */
    public Path kubeconfig() {
        return kubeconfig;
    }

    /** The kubeconfig text, e.g. for {@code Config.fromKubeconfig}. */
    public String kubeconfigYaml() {
        return kubeconfigYaml;
    }

    public ControlPlaneBinaries binaries() {
        return binaries;
    }

    /** The built kubectl, pointed at this server. */
    public Tool kubectl() {
        return new Tool(binaries.kubectl(), Map.of("KUBECONFIG", kubeconfig.toString()));
    }

    /** The built helm, pointed at this server, with its caches in a scratch folder. */
    public Tool helm() {
        Path helm = binaries.helm()
                .orElseThrow(() -> new IllegalStateException(ControlPlaneBinaries.HELM_VAR
                        + " is not set or not executable: source tools/setup.d/10-control-plane.sh"));
        Path home = kubeconfig.getParent().resolve("helm-home");
        return new Tool(
                helm,
                Map.of(
                        "KUBECONFIG", kubeconfig.toString(),
                        "HELM_CACHE_HOME", home.resolve("cache").toString(),
                        "HELM_CONFIG_HOME", home.resolve("config").toString(),
                        "HELM_DATA_HOME", home.resolve("data").toString()));
    }

    /** Creates a namespace with a unique name starting with {@code prefix} and returns its name. */
    public String createNamespace(String prefix) {
        String base = prefix.toLowerCase().replaceAll("[^a-z0-9-]", "-");
        String name = (base.length() > 40 ? base.substring(0, 40) : base).replaceAll("-+$", "") + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        adminClient
                .namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .endMetadata()
                        .build())
                .create();
        return name;
    }

    /**
     * Installs every YAML file in crds/ the way docs/operations.md tells admins to ({@code kubectl apply
     * --server-side}), then waits until each CRD is Established. Going through kubectl rather than the
     * Fabric8 model keeps the stored CRD byte-for-byte what the file says, so later applies of the same
     * file (the chart's copy) co-own its fields instead of conflicting.
     */
    private void installCrds() throws IOException {
        Path dir = RepositoryLayout.crds();
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(
                            p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        }
        for (Path file : files) {
            ToolResult apply =
                    kubectl().run("apply", "--server-side", "--field-manager=" + FIELD_MANAGER, "-f", file.toString());
            if (!apply.succeeded()) {
                throw new IllegalStateException("could not install the CRDs in " + file + "\n" + apply.describe());
            }
            try (InputStream in = Files.newInputStream(file)) {
                for (var item : adminClient.load(in).items()) {
                    if (item instanceof CustomResourceDefinition crd) {
                        adminClient
                                .apiextensions()
                                .v1()
                                .customResourceDefinitions()
                                .withName(crd.getMetadata().getName())
                                .waitUntilCondition(
                                        SharedApiServer::established,
                                        Duration.ofSeconds(60).toMillis(),
                                        TimeUnit.MILLISECONDS);
                    }
                }
            }
        }
    }

    private static boolean established(CustomResourceDefinition crd) {
        return crd != null
                && crd.getStatus() != null
                && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                        .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}

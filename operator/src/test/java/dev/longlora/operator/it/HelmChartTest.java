package dev.longlora.operator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart: lints clean, renders, and its rendered manifests are accepted by a real API server;
 * the RBAC it grants is what the operator needs and no more (checked with {@code kubectl auth can-i}
 * impersonating the operator's service account, which the server's RBAC authorizer answers).
 */
@RealApiServerTest
class HelmChartTest {

    private static final String RELEASE = "llo";
    private static final Pattern SUBRESOURCE = Pattern.compile("(.+)/(status|finalizers)");

    @Test
    void lintsCleanInStrictMode(SharedApiServer server) {
        ToolResult lint =
                server.helm().run("lint", "--strict", RepositoryLayout.chart().toString());
        assertEquals(0, lint.exitCode(), lint::describe);
    }

    @Test
    void clusterWideInstallAppliesAndGrantsLeastPrivilege(
            SharedApiServer server, KubernetesClient client, TestNamespace operatorNs, TestNamespace jobsNs) {
        String rendered = render(server, operatorNs.name(), "--set", "fullnameOverride=" + operatorNs.name());
        apply(server, rendered);

        Deployment deployment = client.apps()
                .deployments()
                .inNamespace(operatorNs.name())
                .withName(operatorNs.name())
                .get();
        var container =
                deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertEquals("/q/health/live", container.getLivenessProbe().getHttpGet().getPath());
        assertEquals(
                "/q/health/ready", container.getReadinessProbe().getHttpGet().getPath());
        assertEquals(
                "true",
                deployment
                        .getSpec()
                        .getTemplate()
                        .getMetadata()
                        .getAnnotations()
                        .get("prometheus.io/scrape"));

        String sa = "system:serviceaccount:" + operatorNs.name() + ":" + operatorNs.name();
        // What the operator manages, in any namespace.
        assertCan(server, sa, true, "create", "pods", jobsNs.name());
        assertCan(server, sa, true, "delete", "pods", jobsNs.name());
        assertCan(server, sa, true, "create", "rolebindings.rbac.authorization.k8s.io", jobsNs.name());
        assertCan(server, sa, true, "patch", "longlorajobs.longlora.dev/status", jobsNs.name());
        assertCan(server, sa, true, "update", "longlorajobs.longlora.dev/finalizers", jobsNs.name());
        assertCan(server, sa, true, "create", "events", jobsNs.name());
        assertCan(server, sa, true, "update", "leases.coordination.k8s.io/longlora-operator-leader", operatorNs.name());
        // What it must not do.
        assertCan(server, sa, false, "create", "longlorajobs.longlora.dev", jobsNs.name());
        assertCan(server, sa, false, "get", "secrets", jobsNs.name());
        assertCan(server, sa, false, "create", "deployments.apps", jobsNs.name());
        assertCan(server, sa, false, "update", "leases.coordination.k8s.io/longlora-operator-leader", jobsNs.name());
        assertCan(server, sa, false, "update", "leases.coordination.k8s.io/some-other-lease", operatorNs.name());
        assertCan(server, sa, false, "create", "clusterroles.rbac.authorization.k8s.io", null);
        assertCan(server, sa, false, "update", "customresourcedefinitions.apiextensions.k8s.io", null);
    }

    /**
     * The aggregated roles carry the aggregation labels and the right rules. The server has no controller manager, so
     * aggregation itself does not run here; each role is bound directly to a user instead and checked with can-i.
     */
    @Test
    void aggregatedRolesLetNamespaceUsersEditOrViewJobs(
            SharedApiServer server, KubernetesClient client, TestNamespace operatorNs, TestNamespace teamNs) {
        String release = operatorNs.name();
        apply(server, render(server, operatorNs.name(), "--set", "fullnameOverride=" + release));

        var edit = client.rbac().clusterRoles().withName(release + "-edit").get();
        var view = client.rbac().clusterRoles().withName(release + "-view").get();
        assertEquals("true", edit.getMetadata().getLabels().get("rbac.authorization.k8s.io/aggregate-to-edit"));
        assertEquals("true", edit.getMetadata().getLabels().get("rbac.authorization.k8s.io/aggregate-to-admin"));
        assertEquals("true", view.getMetadata().getLabels().get("rbac.authorization.k8s.io/aggregate-to-view"));

        bind(server, teamNs.name(), "alice", release + "-edit");
        bind(server, teamNs.name(), "bob", release + "-view");
        assertCan(server, "alice", true, "create", "longlorajobs.longlora.dev", teamNs.name());
        assertCan(server, "alice", true, "delete", "longlorajobs.longlora.dev", teamNs.name());
        assertCan(server, "alice", false, "patch", "longlorajobs.longlora.dev/status", teamNs.name());
        assertCan(server, "bob", true, "list", "longlorajobs.longlora.dev", teamNs.name());
        assertCan(server, "bob", true, "get", "longlorajobs.longlora.dev/status", teamNs.name());
        assertCan(server, "bob", false, "create", "longlorajobs.longlora.dev", teamNs.name());
        assertCan(server, "bob", false, "list", "longlorajobs.longlora.dev", operatorNs.name());
    }

    private static void bind(SharedApiServer server, String namespace, String user, String clusterRole) {
        ToolResult bind = server.kubectl()
                .run("create", "rolebinding", user, "-n", namespace, "--clusterrole=" + clusterRole, "--user=" + user);
        assertEquals(0, bind.exitCode(), bind::describe);
    }

    @Test
    void namespacedInstallBindsRightsOnlyInWatchedNamespaces(
            SharedApiServer server,
            KubernetesClient client,
            TestNamespace operatorNs,
            TestNamespace watched,
            TestNamespace other) {
        String rendered = render(
                server,
                operatorNs.name(),
                "--set",
                "fullnameOverride=" + operatorNs.name(),
                "--set",
                "watchNamespaces={" + watched.name() + "}",
                "--set",
                "trainer.image.cuda.repository=registry.example/longlora/trainer-cuda",
                "--set",
                "trainer.image.cuda.tag=9.9.9");
        apply(server, rendered);

        var env = client.apps()
                .deployments()
                .inNamespace(operatorNs.name())
                .withName(operatorNs.name())
                .get()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getEnv();
        assertTrue(
                env.stream()
                        .anyMatch(e -> e.getName().equals("QUARKUS_OPERATOR_SDK_CONTROLLERS_LONGLORAJOB_NAMESPACES")
                                && e.getValue().equals(watched.name())),
                "watched namespaces passed to the operator: " + env);
        var byName = env.stream()
                .filter(e -> e.getValue() != null)
                .collect(java.util.stream.Collectors.toMap(e -> e.getName(), e -> e.getValue()));
        assertEquals(
                "longlora/trainer-cpu:" + chartAppVersion(),
                byName.get("LONGLORA_TRAINER_IMAGE_CPU"),
                "default: appVersion");
        assertEquals("registry.example/longlora/trainer-cuda:9.9.9", byName.get("LONGLORA_TRAINER_IMAGE_CUDA"));
        assertEquals("IfNotPresent", byName.get("LONGLORA_TRAINER_IMAGE_PULL_POLICY"));

        String sa = "system:serviceaccount:" + operatorNs.name() + ":" + operatorNs.name();
        assertCan(server, sa, true, "create", "pods", watched.name());
        assertCan(server, sa, true, "watch", "longlorajobs.longlora.dev", watched.name());
        assertCan(server, sa, false, "create", "pods", other.name());
        assertCan(server, sa, false, "list", "longlorajobs.longlora.dev", other.name());
    }

    @Test
    void rendersServiceMonitorOnlyWhenAsked(SharedApiServer server) {
        String plain = render(server, "default");
        String withMonitor = render(server, "default", "--set", "metrics.serviceMonitor.enabled=true");
        assertTrue(!plain.contains("kind: ServiceMonitor"), plain);
        assertTrue(withMonitor.contains("kind: ServiceMonitor"), withMonitor);
    }

    /** appVersion from Chart.yaml: the default tag of every image the chart names. */
    private static String chartAppVersion() {
        try {
            Matcher m = Pattern.compile("(?m)^appVersion:\\s*\"?([^\"\\s]+)\"?")
                    .matcher(java.nio.file.Files.readString(
                            RepositoryLayout.chart().resolve("Chart.yaml")));
            assertTrue(m.find(), "appVersion in Chart.yaml");
            return m.group(1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String render(SharedApiServer server, String namespace, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "template",
                RELEASE,
                RepositoryLayout.chart().toString(),
                "--namespace",
                namespace,
                "--include-crds",
                // Render for the API server the manifests are applied to.
                "--kube-version",
                server.binaries().kubeVersion()));
        args.addAll(List.of(extra));
        ToolResult template = server.helm().run(args.toArray(String[]::new));
        assertEquals(0, template.exitCode(), template::describe);
        // The rendered stream must parse as Kubernetes objects, not just be text.
        List<HasMetadata> objects = server.client()
                .load(new ByteArrayInputStream(template.stdout().getBytes(StandardCharsets.UTF_8)))
                .items();
        assertTrue(objects.size() >= 8, "expected the full object set, got " + objects.size());
        return template.stdout();
    }

    private static void apply(SharedApiServer server, String manifests) {
        // --force-conflicts: the CRD is already installed by another manager (the harness; on a cluster, Helm's first
        // install), and its atomic spec.versions list carries server defaults, so a second manager always conflicts.
        // This is the CRD upgrade command docs/operations.md gives.
        ToolResult apply =
                server.kubectl().runWithInput(manifests, "apply", "--server-side", "--force-conflicts", "-f", "-");
        assertEquals(0, apply.exitCode(), apply::describe);
        ToolResult diff = server.kubectl().runWithInput(manifests, "diff", "--server-side", "-f", "-");
        assertEquals(0, diff.exitCode(), "re-applying the rendered chart must change nothing\n" + diff.describe());
    }

    /**
     * Asks the server's RBAC authorizer whether {@code user} may {@code verb} {@code resource}. A resource ending in
     * {@code /status} or {@code /finalizers} means that subresource; any other {@code type/name} is a named object.
     */
    private static void assertCan(
            SharedApiServer server, String user, boolean expected, String verb, String resource, String namespace) {
        List<String> args = new ArrayList<>(List.of("auth", "can-i", verb));
        Matcher sub = SUBRESOURCE.matcher(resource);
        if (sub.matches()) {
            args.addAll(List.of(sub.group(1), "--subresource=" + sub.group(2)));
        } else {
            args.add(resource);
        }
        args.addAll(List.of("--as", user));
        if (namespace != null) {
            args.addAll(List.of("-n", namespace));
        }
        ToolResult result = server.kubectl().run(args.toArray(String[]::new));
        assertTrue(result.exitCode() == 0 || result.exitCode() == 1, result::describe);
        assertEquals(
                expected,
                result.exitCode() == 0,
                user + (expected ? " should " : " should not ") + "be allowed to " + verb + " " + resource
                        + (namespace == null ? "" : " in " + namespace) + "\n" + result.describe());
    }
}

package dev.longlora.operator.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension for tests against a real kube-apiserver + etcd. Use it through {@link RealApiServerTest}:
 *
 * <pre>{@code
 * @RealApiServerTest
 * class MyReconcileTest {
 *   @Test
 *   void createsPods(KubernetesClient client, TestNamespace ns) {
 *     client.resource(job).inNamespace(ns.name()).create();
 *     ...
 *   }
 *
 *   @Test
 *   void rejectsBadManifest(SharedApiServer server) {
 *     ToolResult r = server.kubectl().run("apply", "--server-side", "-f", path);
 *   }
 * }
 * }</pre>
 *
 * <p>What it gives a test method (as parameters; constructor and lifecycle-method parameters too):
 * <ul>
 *   <li>{@link KubernetesClient}: the shared cluster-admin Fabric8 client. Do not close it.</li>
 *   <li>{@link TestNamespace}: a fresh namespace created for this test method only (a new one per
 *       parameter resolution, so take it once per method).</li>
 *   <li>{@link SharedApiServer}: the server itself, for {@code kubectl()}, {@code helm()},
 *       {@code kubeconfig()} (to run an operator against it) and {@code newClient()}.</li>
 * </ul>
 *
 * <p>One server is started per JVM on first use (a few seconds) and shared by all test classes, Quarkus tests
 * included ({@code SharedApiServer.get()} from a {@code QuarkusTestResourceLifecycleManager} attaches to the same
 * server although Quarkus loads test classes in its own class loader);
 * the CRDs in {@code crds/} are installed (server-side apply) and Established before any test runs.
 * Tests must therefore not depend on cluster-scoped state they did not create.
 *
 * <p>When the control-plane binaries are missing, the tests are skipped with the reason, except when
 * the environment variable {@code CI} is {@code true}: there they fail, because CI must run them.
 * The binaries come from {@code tools/setup.d/10-control-plane.sh} (sourced by {@code bin/test}).
 *
 * <p>The server has no scheduler, controller manager or garbage collector; see {@link SharedApiServer}.
 */
public final class RealApiServerExtension implements ExecutionCondition, BeforeAllCallback, ParameterResolver {

    /** Without binaries the tests are reported as skipped with the reason, unless CI=true (then beforeAll fails). */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        ControlPlaneBinaries.Lookup lookup = ControlPlaneBinaries.locate();
        if (lookup.binaries().isPresent() || onCi()) {
            return ConditionEvaluationResult.enabled(
                    "control-plane binaries in " + System.getenv("LONGLORA_KUBE_BIN_DIR"));
        }
        return ConditionEvaluationResult.disabled(
                "no control-plane binaries, skipping real API server tests: " + lookup.problem());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        ControlPlaneBinaries.Lookup lookup = ControlPlaneBinaries.locate();
        if (lookup.binaries().isEmpty()) {
            throw new IllegalStateException("CI=true but the real API server tests cannot run: " + lookup.problem());
        }
        SharedApiServer.get();
    }

    private static boolean onCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == KubernetesClient.class || type == TestNamespace.class || type == SharedApiServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        Class<?> type = parameter.getParameter().getType();
        SharedApiServer server = SharedApiServer.get();
        if (type == KubernetesClient.class) {
            return server.client();
        }
        if (type == SharedApiServer.class) {
            return server;
        }
        String prefix = context.getTestMethod().map(m -> m.getName()).orElse(context.getDisplayName());
        return new TestNamespace(server.createNamespace(prefix));
    }
}

package dev.longlora.operator.reconcile;

import dev.longlora.operator.metrics.OperatorMetrics;
import dev.longlora.operator.topology.TopologySettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * The real reconciler in a real JOSDK operator, in the test JVM, watching one namespace of the shared API server
 * (so tests never reconcile each other's jobs).
 */
final class RunningOperator implements AutoCloseable {
    static final TopologySettings SETTINGS = new TopologySettings("longlora/trainer:it", "IfNotPresent");

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Operator operator;

    RunningOperator(KubernetesClient client, String namespace) {
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
        operator.register(
                new LongLoRAJobReconciler(SETTINGS, new OperatorMetrics(registry), Clock.systemUTC()),
                c -> c.settingNamespace(namespace));
        operator.start();
    }

    /** Reconciles finished so far. */
    long reconciles() {
        return registry.timer("longlora.reconcile").count();
    }

    double restarts() {
        return registry.counter("longlora.job.restarts").count();
    }

    @Override
    public void close() {
        operator.stop();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}

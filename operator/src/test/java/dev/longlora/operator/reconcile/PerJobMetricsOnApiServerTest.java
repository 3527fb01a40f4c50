package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.WAIT;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.gang;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.get;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.job;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.run;
import static dev.longlora.operator.reconcile.RunningOperator.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.longlora.contract.Annotations;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.TestNamespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import org.junit.jupiter.api.Test;

/**
 * Per-job metrics through a real kube-apiserver: rank 0's progress annotation reaches the job's gauges through the
 * reconcile, and a deleted job's series are removed.
 */
@RealApiServerTest
class PerJobMetricsOnApiServerTest {

    static double step(RunningOperator operator, String ns, String job) {
        Gauge g = operator.registry
                .find("longlora.job.step")
                .tag("namespace", ns)
                .tag("job", job)
                .gauge();
        return g == null ? Double.NaN : g.value();
    }

    @Test
    void progressBecomesTheJobsGaugesAndTheyLeaveWithTheJob(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "watched", 1, 0, 2)).create();
            await("gang 0", WAIT, () -> gang(client, ns, 0).size() == 1);
            Pod rank0 = gang(client, ns, 0).getFirst();
            run(client, rank0);
            client.pods()
                    .inNamespace(ns)
                    .withName(rank0.getMetadata().getName())
                    .edit(p -> {
                        if (p.getMetadata().getAnnotations() == null)
                            p.getMetadata().setAnnotations(new java.util.HashMap<>());
                        p.getMetadata()
                                .getAnnotations()
                                .put(
                                        Annotations.PROGRESS,
                                        "{\"step\": 120, \"totalSteps\": 1000, \"loss\": 2.31, \"tokensPerSecond\": 5120.0,"
                                                + " \"etaSeconds\": 8800, \"updateTime\": \"2026-12-02T10:00:00Z\"}");
                        return p;
                    });
            await("the step gauge", WAIT, () -> step(operator, ns, "watched") == 120.0);
            assertEquals(
                    1.0,
                    operator.registry
                            .get("longlora.job.phase")
                            .tag("job", "watched")
                            .tag("phase", "Running")
                            .gauge()
                            .value());
            assertEquals(
                    5120.0,
                    operator.registry
                            .get("longlora.job.tokens.per.second")
                            .tag("job", "watched")
                            .gauge()
                            .value());

            LongLoRAJob job = get(client, ns, "watched");
            client.resource(job).delete();
            await(
                    "the job's series removed",
                    WAIT,
                    () -> operator.registry
                            .find("longlora.job.step")
                            .tag("job", "watched")
                            .gauges()
                            .isEmpty());
        }
    }
}

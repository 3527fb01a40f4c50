package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.RunningOperator.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.it.SharedApiServer;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The packaged application as Quarkus wires it (CDI, configuration, the operator SDK extension, health and metrics)
 * reconciling a job on the real API server: what the unit and JOSDK tests cannot show.
 */
@QuarkusTest
@WithTestResource(value = RealApiServerForQuarkus.class, scope = TestResourceScope.RESTRICTED_TO_CLASS)
@EnabledIf(
        value = "dev.longlora.operator.reconcile.RealApiServerForQuarkus#available",
        disabledReason = "no control-plane binaries: source tools/setup.d/10-control-plane.sh")
class OperatorApplicationTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @ConfigProperty(name = "quarkus.http.test-port")
    int port;

    String get(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return response.body();
    }

    @Test
    void appReconcilesAJobAndReportsHealthAndMetrics() throws Exception {
        var client = SharedApiServer.get().client();
        String ns = RealApiServerForQuarkus.namespace;
        client.resource(GangReconcileOnApiServerTest.job(ns, "app", 2, 0, 1)).create();
        await(
                "2 pods from the Quarkus app",
                WAIT,
                () -> client.pods().inNamespace(ns).list().getItems().size() == 2);
        await("status Pending", WAIT, () -> {
            LongLoRAJob job = client.resources(LongLoRAJob.class)
                    .inNamespace(ns)
                    .withName("app")
                    .get();
            return job.getStatus() != null && job.getStatus().phase() == JobPhase.Pending;
        });
        String pod0 = client.pods()
                .inNamespace(ns)
                .withName("app-node-0")
                .get()
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
        String version = ConfigProvider.getConfig().getValue("quarkus.application.version", String.class);
        assertEquals(
                "longlora/trainer-cpu:" + version,
                pod0,
                "the configured CPU trainer image (gpusPerNode 0), tagged with the operator's version");

        assertTrue(get("/q/health/ready").contains("\"UP\""));
        assertTrue(get("/q/health/live").contains("\"UP\""));
        await("metrics count the pending job", WAIT, () -> {
            try {
                return get("/q/metrics").contains("longlora_jobs{phase=\"Pending\"} 1.0");
            } catch (Exception e) {
                return false;
            }
        });
        String metrics = get("/q/metrics");
        assertTrue(metrics.contains("longlora_reconcile_seconds_count"), "reconcile latency is measured");
        assertTrue(metrics.contains("longlora_job_restarts_total"), "restarts are counted");
        String perJob = "longlora_job_phase{job=\"app\",namespace=\"" + ns + "\",phase=\"Pending\"} 1.0";
        assertTrue(metrics.contains(perJob), "per-job phase series: " + perJob);
        for (String name : List.of(
                "longlora_job_step{",
                "longlora_job_total_steps{",
                "longlora_job_tokens_per_second{",
                "longlora_job_eta_seconds{",
                "longlora_job_step_seconds{",
                "longlora_job_gang_restarts{")) {
            assertTrue(metrics.contains(name), "per-job series " + name);
        }
    }
}

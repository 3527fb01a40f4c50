package dev.longlora.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.Annotations;
import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.ProgressReport;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.TestNamespace;
import dev.longlora.operator.reconcile.JobPlanner;
import dev.longlora.operator.reconcile.Observed;
import dev.longlora.operator.topology.JobTopology;
import dev.longlora.operator.topology.TestJobs;
import dev.longlora.trainer.progress.AnnotationProgressSink;
import dev.longlora.trainer.progress.PodProgress;
import dev.longlora.trainer.train.ProgressSink;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Progress end to end on a real kube-apiserver: with the ServiceAccount, Role and RoleBinding the operator creates
 * for a job and a token of that ServiceAccount (what a trainer pod mounts), the trainer's annotation sink patches
 * rank 0's pod, and the operator's planner folds that pod's annotation into status.progress and
 * status.lastCheckpoint. The same token cannot patch a pod outside the job.
 */
@RealApiServerTest
class ProgressOnApiServerTest {

    @Test
    void rankZeroReportsWithTheJobsTokenAndTheOperatorFoldsItIn(KubernetesClient admin, TestNamespace ns) {
        LongLoRAJob job = TestJobs.job("progress", TestJobs.spec(1, 0));
        job.getMetadata().setNamespace(ns.name());
        JobTopology topology = new JobTopology(job, TestJobs.SETTINGS);
        List<HasMetadata> identity = List.of(topology.serviceAccount(), topology.role(), topology.roleBinding());
        identity.forEach(o -> admin.resource(o).inNamespace(ns.name()).create());
        Pod rank0 = admin.resource(topology.pod(0, 0)).inNamespace(ns.name()).create();
        Pod outsider = admin.resource(new PodBuilder()
                        .withNewMetadata()
                        .withName("someone-else")
                        .endMetadata()
                        .withNewSpec()
                        .addNewContainer()
                        .withName("c")
                        .withImage("busybox")
                        .endContainer()
                        .endSpec()
                        .build())
                .inNamespace(ns.name())
                .create();

        Config trainer = tokenConfig(
                admin, ns.name(), topology.serviceAccount().getMetadata().getName());
        List<String> log = new CopyOnWriteArrayList<>();
        String pod = rank0.getMetadata().getName();
        try (AnnotationProgressSink sink =
                PodProgress.forPod(trainer, ns.name(), pod, Duration.ofSeconds(1), log::add)) {
            sink.phase(ProgressPhase.LOADING);
            sink.phase(ProgressPhase.TRAINING);
            sink.start(0, 10);
            for (int step = 1; step <= 3; step++) {
                sink.step(new ProgressSink.StepProgress(step, 10, 3.0 - step * 0.1, 2e-5, 640.0, 70, 1.0));
            }
            sink.checkpoint(3, Path.of("/checkpoints/step-3"));
            sink.finish();
        }
        assertEquals(List.of(), log, "the job's Role lets rank 0 patch its own pod");

        Pod reported = admin.pods().inNamespace(ns.name()).withName(pod).get();
        ProgressReport report = ProgressReport.parse(
                        reported.getMetadata().getAnnotations().get(Annotations.PROGRESS))
                .orElseThrow();
        assertEquals(3L, report.step());
        assertEquals(ProgressPhase.TRAINING, report.phase());
        assertEquals(3L, report.lastCheckpoint().step());

        Instant now = Instant.now();
        LongLoRAJobStatus status = new JobPlanner(TestJobs.SETTINGS)
                .plan(job, Observed.of(List.of(reported), identity), now)
                .status();
        assertEquals(3L, status.progress().step());
        assertEquals(10L, status.progress().totalSteps());
        assertEquals(2.7, status.progress().loss(), 1e-9);
        assertEquals("training", status.progress().phase());
        assertEquals(
                now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(),
                status.progress().lastAdvanceTime());
        assertEquals(3L, status.lastCheckpoint().step());
        assertEquals("/checkpoints/step-3", status.lastCheckpoint().path());

        // the same token, another pod: refused by the API server; the sink says so once and does not throw
        try (KubernetesClient asTrainer =
                new KubernetesClientBuilder().withConfig(trainer).build()) {
            KubernetesClientException refused = assertThrows(
                    KubernetesClientException.class,
                    () -> asTrainer
                            .pods()
                            .inNamespace(ns.name())
                            .withName(outsider.getMetadata().getName())
                            .patch(
                                    PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"metadata\":{\"annotations\":{\"" + Annotations.PROGRESS + "\":\"{}\"}}}"));
            assertEquals(403, refused.getCode());
        }
        try (AnnotationProgressSink sink = PodProgress.forPod(
                trainer, ns.name(), outsider.getMetadata().getName(), Duration.ofSeconds(1), log::add)) {
            sink.phase(ProgressPhase.TRAINING);
            sink.step(new ProgressSink.StepProgress(1, 10, 3.0, 2e-5, 640.0, 70, 1.0));
            sink.finish();
        }
        assertEquals(1, log.size(), "one message: " + log);
        assertTrue(log.getFirst().contains("403") || log.getFirst().contains("Forbidden"), log.getFirst());
        Map<String, String> untouched = admin.pods()
                .inNamespace(ns.name())
                .withName(outsider.getMetadata().getName())
                .get()
                .getMetadata()
                .getAnnotations();
        assertNull(untouched == null ? null : untouched.get(Annotations.PROGRESS));
    }

    /** What a trainer pod's client sees: the API server, its CA, and a token of the job's ServiceAccount. */
    static Config tokenConfig(KubernetesClient admin, String namespace, String serviceAccount) {
        String token = admin.serviceAccounts()
                .inNamespace(namespace)
                .withName(serviceAccount)
                .tokenRequest(new TokenRequestBuilder()
                        .withNewSpec()
                        .withExpirationSeconds(3600L)
                        .endSpec()
                        .build())
                .getStatus()
                .getToken();
        Config a = admin.getConfiguration();
        return new ConfigBuilder(Config.empty())
                .withMasterUrl(a.getMasterUrl())
                .withCaCertData(a.getCaCertData())
                .withCaCertFile(a.getCaCertFile())
                .withTrustCerts(a.isTrustCerts())
                .withOauthToken(token)
                .build();
    }
}

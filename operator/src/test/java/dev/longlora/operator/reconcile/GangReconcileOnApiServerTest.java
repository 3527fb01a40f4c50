package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.RunningOperator.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.PodPaths;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.JobResults;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.SharedApiServer;
import dev.longlora.operator.it.TestNamespace;
import dev.longlora.operator.topology.JobResolver;
import dev.longlora.operator.topology.TestJobs;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The reconciler in a real JOSDK operator against a real kube-apiserver + etcd. The server has no kubelet: the
 * tests play it, setting pod phases and exit codes through the pods' status subresource.
 */
@RealApiServerTest
class GangReconcileOnApiServerTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    static LongLoRAJob job(String ns, String name, int nodes, int gpus, int backoffLimit) {
        CheckpointSpec checkpoint = new CheckpointSpec(
                null,
                new CheckpointStorage(
                        "10Gi",
                        null,
                        nodes > 1
                                ? CheckpointStorage.AccessMode.ReadWriteMany
                                : CheckpointStorage.AccessMode.ReadWriteOnce),
                null,
                null,
                null);
        LongLoRAJobSpec spec = new LongLoRAJobSpec(
                new ModelSpec("builtin:tiny", null, null),
                new DatasetSpec("builtin:synthetic", null, null),
                new ContextSpec(256, 1024, null),
                null,
                null,
                null,
                new DistributedSpec(nodes, gpus, 2, null, null, null, null),
                checkpoint,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                backoffLimit,
                null,
                null,
                null,
                null,
                null,
                null);
        return new LongLoRAJob(ns, name, spec);
    }

    static LongLoRAJob get(KubernetesClient client, String ns, String name) {
        return client.resources(LongLoRAJob.class)
                .inNamespace(ns)
                .withName(name)
                .get();
    }

    static JobPhase phase(KubernetesClient client, String ns, String name) {
        LongLoRAJob job = get(client, ns, name);
        return job == null || job.getStatus() == null ? null : job.getStatus().phase();
    }

    static List<Pod> pods(KubernetesClient client, String ns) {
        return client.pods().inNamespace(ns).list().getItems().stream()
                .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                .toList();
    }

    static List<Pod> gang(KubernetesClient client, String ns, int generation) {
        return pods(client, ns).stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null
                        && Integer.toString(generation)
                                .equals(p.getMetadata().getLabels().get("longlora.dev/restart")))
                .toList();
    }

    /** Plays the kubelet: the trainer container ended with this exit code. */
    static void exit(KubernetesClient client, Pod pod, int exitCode) {
        exit(client, pod, exitCode, null);
    }

    /** Plays the kubelet: the trainer container ended with this exit code and termination message. */
    static void exit(KubernetesClient client, Pod pod, int exitCode, String message) {
        client.pods()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName())
                .editStatus(p -> {
                    p.setStatus(new PodStatusBuilder()
                            .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                            .withContainerStatuses(new ContainerStatusBuilder()
                                    .withName("trainer")
                                    .withImage("longlora/trainer:it")
                                    .withImageID("")
                                    .withReady(false)
                                    .withRestartCount(0)
                                    .withNewState()
                                    .withNewTerminated()
                                    .withExitCode(exitCode)
                                    .withReason(exitCode == 0 ? "Completed" : "Error")
                                    .withMessage(message)
                                    .endTerminated()
                                    .endState()
                                    .build())
                            .build());
                    return p;
                });
    }

    /** Plays the kubelet: the trainer container runs and is ready. */
    static void run(KubernetesClient client, Pod pod) {
        client.pods()
                .inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName())
                .editStatus(p -> {
                    p.setStatus(new PodStatusBuilder()
                            .withPhase("Running")
                            .withContainerStatuses(new ContainerStatusBuilder()
                                    .withName("trainer")
                                    .withImage("longlora/trainer:it")
                                    .withImageID("")
                                    .withReady(true)
                                    .withRestartCount(0)
                                    .withStarted(true)
                                    .withNewState()
                                    .withNewRunning()
                                    .withStartedAt("2026-11-26T10:00:00Z")
                                    .endRunning()
                                    .endState()
                                    .build())
                            .build());
                    return p;
                });
    }

    static Set<String> eventReasons(KubernetesClient client, String ns) {
        return client.v1().events().inNamespace(ns).list().getItems().stream()
                .map(io.fabric8.kubernetes.api.model.Event::getReason)
                .collect(Collectors.toSet());
    }

    @Test
    void createsTheWholeDesiredObjectSetWithRankWiring(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "gang", 3, 8, 2)).create();
            await("3 pods", WAIT, () -> gang(client, ns, 0).size() == 3);
            LongLoRAJob job = get(client, ns, "gang");
            String uid = job.getMetadata().getUid();

            List<HasMetadata> owned = List.of(
                    client.services().inNamespace(ns).withName("gang").get(),
                    client.configMaps().inNamespace(ns).withName("gang-config").get(),
                    client.serviceAccounts()
                            .inNamespace(ns)
                            .withName("gang-trainer")
                            .get(),
                    client.rbac()
                            .roles()
                            .inNamespace(ns)
                            .withName("gang-trainer")
                            .get(),
                    client.rbac()
                            .roleBindings()
                            .inNamespace(ns)
                            .withName("gang-trainer")
                            .get());
            for (HasMetadata o : owned) {
                assertNotNull(o);
                assertEquals(
                        uid, o.getMetadata().getOwnerReferences().getFirst().getUid(), o.getKind());
                assertTrue(o.getMetadata().getOwnerReferences().getFirst().getController(), o.getKind());
            }
            var claim = client.persistentVolumeClaims()
                    .inNamespace(ns)
                    .withName("gang-checkpoints")
                    .get();
            assertNotNull(claim, "the operator creates the checkpoint claim");
            assertTrue(
                    claim.getMetadata().getOwnerReferences() == null
                            || claim.getMetadata().getOwnerReferences().isEmpty(),
                    "the checkpoint claim must outlive the job");
            assertEquals(List.of("ReadWriteMany"), claim.getSpec().getAccessModes());

            var svc = client.services().inNamespace(ns).withName("gang").get();
            assertEquals("None", svc.getSpec().getClusterIP());
            assertTrue(svc.getSpec().getPublishNotReadyAddresses());
            var role = client.rbac()
                    .roles()
                    .inNamespace(ns)
                    .withName("gang-trainer")
                    .get();
            assertEquals(
                    List.of("gang-node-0", "gang-node-1", "gang-node-2"),
                    role.getRules().getFirst().getResourceNames());
            JobConfig config = JobConfigJson.parse(client.configMaps()
                    .inNamespace(ns)
                    .withName("gang-config")
                    .get()
                    .getData()
                    .get("job.json"));
            assertEquals(JobResolver.resolve(job), config);

            List<Pod> pods = gang(client, ns, 0);
            for (int i = 0; i < 3; i++) {
                Pod pod = pods.get(i);
                assertEquals("gang-node-" + i, pod.getMetadata().getName());
                assertEquals(
                        uid, pod.getMetadata().getOwnerReferences().getFirst().getUid());
                Map<String, String> env = pod.getSpec().getContainers().getFirst().getEnv().stream()
                        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
                assertEquals("3", env.get("NNODES"));
                assertEquals(Integer.toString(i), env.get("NODE_RANK"));
                assertEquals("8", env.get("GPUS_PER_NODE"));
                assertEquals("24", env.get("WORLD_SIZE"));
                assertEquals("gang-node-0.gang." + ns + ".svc", env.get("MASTER_ADDR"));
                assertEquals("29500", env.get("MASTER_PORT"));
                assertEquals("2", env.get("ZERO_STAGE"));
                assertEquals("/checkpoints", env.get("CHECKPOINT_DIR"));
                assertEquals("latest", env.get("RESUME_FROM"));
                assertEquals(
                        "8",
                        pod.getSpec()
                                .getContainers()
                                .getFirst()
                                .getResources()
                                .getLimits()
                                .get("nvidia.com/gpu")
                                .toString());
                assertEquals("gang", pod.getSpec().getSubdomain());
            }
            await("status Pending with 3 desired workers", WAIT, () -> {
                LongLoRAJob j = get(client, ns, "gang");
                return j.getStatus() != null
                        && j.getStatus().phase() == JobPhase.Pending
                        && j.getStatus().workers().desired() == 3;
            });
            assertTrue(eventReasons(client, ns).contains("GangCreated"));

            // The operator writes the job only through its status subresource.
            job = get(client, ns, "gang");
            job.getMetadata().getManagedFields().stream()
                    .filter(f -> !"fabric8-kubernetes-client".equals(f.getManager()) && f.getSubresource() == null)
                    .forEach(f -> {
                        throw new AssertionError("the operator wrote the job outside its status: " + f);
                    });
        }
    }

    @Test
    void failedWorkerRestartsTheGangThenBackoffLimitFailsTheJob(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "flaky", 2, 0, 1)).create();
            await("gang 0", WAIT, () -> gang(client, ns, 0).size() == 2);
            List<Pod> first = gang(client, ns, 0);
            first.forEach(p -> run(client, p));
            await("Running", WAIT, () -> phase(client, ns, "flaky") == JobPhase.Running);

            exit(client, first.get(1), 10);
            await("gang 1 recreated", WAIT, () -> gang(client, ns, 1).size() == 2);
            List<Pod> second = gang(client, ns, 1);
            for (int i = 0; i < 2; i++) {
                assertNotEquals(
                        first.get(i).getMetadata().getUid(),
                        second.get(i).getMetadata().getUid(),
                        "every worker of the gang is replaced, not only the failed one");
            }
            LongLoRAJob job = get(client, ns, "flaky");
            assertEquals(1, job.getStatus().restarts());
            assertEquals("LostPeer", job.getStatus().lastFailure().reason());
            assertEquals(List.of(), gang(client, ns, 0), "no worker of the old gang is left hanging");
            assertEquals(1.0, operator.restarts());

            second.forEach(p -> run(client, p));
            exit(client, second.get(0), 137);
            await("Failed", WAIT, () -> phase(client, ns, "flaky") == JobPhase.Failed);
            job = get(client, ns, "flaky");
            assertEquals(1, job.getStatus().restarts());
            assertEquals(
                    "BackoffLimitExceeded",
                    job.getStatus().conditions().stream()
                            .filter(c -> c.getType().equals("Failed"))
                            .findFirst()
                            .orElseThrow()
                            .getReason());
            await("running worker removed", WAIT, () -> pods(client, ns).size() == 1);
            assertEquals(
                    "flaky-node-0",
                    pods(client, ns).getFirst().getMetadata().getName(),
                    "the failed pod stays for its logs");
            // Events are the executor's last round, after the pod deletions this test just waited for.
            await(
                    "events",
                    WAIT,
                    () -> eventReasons(client, ns)
                            .containsAll(Set.of("WorkerFailed", "GangRestart", "BackoffLimitExceeded")));
        }
    }

    @Test
    void permanentExitCodeFailsWithoutARestart(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "badcfg", 2, 0, 3)).create();
            await("gang", WAIT, () -> gang(client, ns, 0).size() == 2);
            exit(client, gang(client, ns, 0).get(0), 2);
            await("Failed", WAIT, () -> phase(client, ns, "badcfg") == JobPhase.Failed);
            LongLoRAJob job = get(client, ns, "badcfg");
            assertEquals(0, job.getStatus().restarts());
            assertEquals("InvalidConfig", job.getStatus().lastFailure().reason());
            assertTrue(
                    job.getStatus().message().contains("exit code 2"),
                    job.getStatus().message());
        }
    }

    @Test
    void suspendRemovesPodsKeepsTheRestAndResumeRecreatesThem(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "pausable", 1, 8, 3)).create();
            await("gang", WAIT, () -> gang(client, ns, 0).size() == 1);

            // The world size is fixed while the job runs (CEL transition rule in the CRD).
            KubernetesClientException refused =
                    assertThrows(KubernetesClientException.class, () -> editSpec(client, ns, "pausable", 4, false));
            assertTrue(refused.getMessage().contains("set spec.suspend: true first"), refused.getMessage());

            editSpec(client, ns, "pausable", 8, true);
            await(
                    "Suspended without pods",
                    WAIT,
                    () -> phase(client, ns, "pausable") == JobPhase.Suspended
                            && pods(client, ns).isEmpty());
            assertNotNull(client.persistentVolumeClaims()
                    .inNamespace(ns)
                    .withName("pausable-checkpoints")
                    .get());
            assertNotNull(client.configMaps()
                    .inNamespace(ns)
                    .withName("pausable-config")
                    .get());

            // Suspended, the world size may change; resuming recreates the gang with it.
            editSpec(client, ns, "pausable", 4, true);
            editSpec(client, ns, "pausable", 4, false);
            await(
                    "resumed gang",
                    WAIT,
                    () -> gang(client, ns, 0).size() == 1 && phase(client, ns, "pausable") == JobPhase.Pending);
            Pod pod = gang(client, ns, 0).getFirst();
            assertEquals(
                    "4",
                    pod.getSpec()
                            .getContainers()
                            .getFirst()
                            .getResources()
                            .getLimits()
                            .get("nvidia.com/gpu")
                            .toString());
            await(
                    "job.json follows the spec",
                    WAIT,
                    () -> client.configMaps()
                            .inNamespace(ns)
                            .withName("pausable-config")
                            .get()
                            .getData()
                            .get("job.json")
                            .contains("\"gpusPerNode\" : 4"));
            assertTrue(eventReasons(client, ns).containsAll(Set.of("Suspended", "Resumed")));
        }
    }

    /** A user's edit: retried when the operator's status write got in between (409). */
    static void editSpec(KubernetesClient client, String ns, String name, int gpus, boolean suspend) {
        for (int attempt = 0; ; attempt++) {
            try {
                client.resources(LongLoRAJob.class)
                        .inNamespace(ns)
                        .withName(name)
                        .edit(j -> withGpus(j, gpus, suspend));
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 10) {
                    throw e;
                }
            }
        }
    }

    static LongLoRAJob withGpus(LongLoRAJob j, int gpus, boolean suspend) {
        LongLoRAJobSpec s = j.getSpec();
        DistributedSpec d = s.distributed();
        j.setSpec(TestJobs.withFields(
                s,
                Map.of(
                        "distributed",
                        new DistributedSpec(
                                d.nodes(),
                                gpus,
                                d.zeroStage(),
                                d.offloadOptimizer(),
                                d.masterPort(),
                                d.rendezvousTimeoutSeconds(),
                                d.collectiveTimeoutSeconds()),
                        "suspend",
                        suspend)));
        return j;
    }

    @Test
    void aSecondReconcileWritesNothing(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "steady", 2, 0, 3)).create();
            await("gang", WAIT, () -> gang(client, ns, 0).size() == 2);
            gang(client, ns, 0).forEach(p -> run(client, p));
            await("Running", WAIT, () -> phase(client, ns, "steady") == JobPhase.Running);
            Map<String, String> before = resourceVersions(client, ns);
            long reconciles = operator.reconciles();

            // An unrelated change to worker 1 triggers a reconcile that must find nothing to do.
            client.pods().inNamespace(ns).withName("steady-node-1").edit(p -> {
                p.getMetadata().getAnnotations().put("example.com/touched", "yes");
                return p;
            });
            await("another reconcile", WAIT, () -> operator.reconciles() > reconciles);
            Map<String, String> after = resourceVersions(client, ns);
            before.remove("Pod/steady-node-1");
            after.remove("Pod/steady-node-1");
            assertEquals(before, after, "a reconcile of an unchanged job must not write anything");

            // Rank 0's progress annotation reaches the status (the one write this time).
            client.pods().inNamespace(ns).withName("steady-node-0").edit(p -> {
                p.getMetadata()
                        .getAnnotations()
                        .put(
                                "longlora.dev/progress",
                                "{\"step\": 7, \"totalSteps\": 20, \"loss\": 3.5, \"tokensPerSecond\": 900.0,"
                                        + " \"lastCheckpoint\": {\"step\": 5, \"path\": \"/checkpoints/step-5\"}}");
                return p;
            });
            await("progress in status", WAIT, () -> {
                LongLoRAJob j = get(client, ns, "steady");
                return j.getStatus().progress() != null
                        && Long.valueOf(7).equals(j.getStatus().progress().step());
            });
            assertEquals(
                    5L, get(client, ns, "steady").getStatus().lastCheckpoint().step());
        }
    }

    static Map<String, String> resourceVersions(KubernetesClient client, String ns) {
        Map<String, String> versions = new HashMap<>();
        List<HasMetadata> all = new java.util.ArrayList<>();
        all.addAll(client.pods().inNamespace(ns).list().getItems());
        all.addAll(client.services().inNamespace(ns).list().getItems());
        all.addAll(client.configMaps()
                .inNamespace(ns)
                .withLabel("longlora.dev/job-name")
                .list()
                .getItems());
        all.addAll(client.serviceAccounts()
                .inNamespace(ns)
                .withLabel("longlora.dev/job-name")
                .list()
                .getItems());
        all.addAll(client.rbac().roles().inNamespace(ns).list().getItems());
        all.addAll(client.rbac().roleBindings().inNamespace(ns).list().getItems());
        all.addAll(client.persistentVolumeClaims().inNamespace(ns).list().getItems());
        all.addAll(client.resources(LongLoRAJob.class).inNamespace(ns).list().getItems());
        all.forEach(o -> versions.put(
                o.getKind() + "/" + o.getMetadata().getName(), o.getMetadata().getResourceVersion()));
        return versions;
    }

    @Test
    void aPodTheServerRefusesIsReportedInTheStatus(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            LongLoRAJob job = job(ns, "refused", 1, 0, 3);
            // The CRD cannot know every pod rule: an env name with '=' passes the schema, the pod is refused.
            job.setSpec(dev.longlora.operator.topology.TestJobs.withOverlay(
                    job.getSpec(),
                    new dev.longlora.operator.api.PodTemplateOverlay(
                            null,
                            null,
                            List.of(new io.fabric8.kubernetes.api.model.EnvVar("BAD=NAME", "x", null)),
                            null,
                            null,
                            null,
                            null,
                            null,
                            null,
                            null,
                            null)));
            client.resource(job).create();
            await("the refusal in status.message", WAIT, () -> {
                LongLoRAJob j = get(client, ns, "refused");
                return j.getStatus() != null
                        && j.getStatus().message() != null
                        && j.getStatus().message().startsWith("reconcile failed, retrying:")
                        && j.getStatus().message().contains("BAD=NAME");
            });
            assertTrue(pods(client, ns).isEmpty());
        }
    }

    @Test
    void deadlineFailsARunningJob(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            LongLoRAJob job = job(ns, "slow", 1, 0, 3);
            LongLoRAJobSpec s = job.getSpec();
            job.setSpec(dev.longlora.operator.topology.TestJobs.with(s, null, 2L, null));
            client.resource(job).create();
            await("Failed by deadline", WAIT, () -> phase(client, ns, "slow") == JobPhase.Failed);
            assertEquals(
                    "DeadlineExceeded",
                    get(client, ns, "slow").getStatus().conditions().stream()
                            .filter(c -> c.getType().equals("Failed"))
                            .findFirst()
                            .orElseThrow()
                            .getReason());
            await("pods removed", WAIT, () -> pods(client, ns).isEmpty());
        }
    }

    @Test
    void successThenTtlDeletesTheJobButKeepsTheCheckpoints(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            LongLoRAJob job = job(ns, "done", 2, 0, 3);
            job.setSpec(dev.longlora.operator.topology.TestJobs.with(job.getSpec(), null, null, 1));
            client.resource(job).create();
            await("gang", WAIT, () -> gang(client, ns, 0).size() == 2);
            gang(client, ns, 0).forEach(p -> exit(client, p, 0));
            await("job deleted by TTL", WAIT, () -> get(client, ns, "done") == null);
            assertNotNull(
                    client.persistentVolumeClaims()
                            .inNamespace(ns)
                            .withName("done-checkpoints")
                            .get(),
                    "the trained outputs survive the job");
        }
    }

    @Test
    void rankZerosReportBecomesStatusResultsAnEventAndThePplColumn(
            KubernetesClient client, TestNamespace namespace, SharedApiServer server) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "evaluated", 2, 0, 3)).create();
            await("gang", WAIT, () -> gang(client, ns, 0).size() == 2);
            Pod rank0 = gang(client, ns, 0).getFirst();
            var container = rank0.getSpec().getContainers().getFirst();
            assertEquals(PodPaths.TERMINATION_MESSAGE_PATH, container.getTerminationMessagePath());
            assertEquals("File", container.getTerminationMessagePolicy());
            assertTrue(container.getEnv().stream()
                    .anyMatch(e -> e.getName().equals(TrainerEnv.RESULTS_FILE)
                            && e.getValue().equals(PodPaths.TERMINATION_MESSAGE_PATH)));
            String report = """
                    {"adapterPath": "/checkpoints/output/adapter", "mergedPath": "/checkpoints/output/merged",
                     "perplexity": [{"length": 256, "value": 9.5}, {"length": 1024, "value": 6.95}],
                     "passkey": [{"length": 1024, "accuracy": 0.6}], "time": "2026-11-26T12:00:00Z"}""";
            exit(client, rank0, 0, report);
            exit(client, gang(client, ns, 0).get(1), 0);
            await("Succeeded", WAIT, () -> phase(client, ns, "evaluated") == JobPhase.Succeeded);

            JobResults results = get(client, ns, "evaluated").getStatus().results();
            assertEquals("/checkpoints/output/adapter", results.adapterPath());
            assertEquals("/checkpoints/output/merged", results.mergedPath());
            assertEquals(
                    List.of(new JobResults.Perplexity(256, 9.5), new JobResults.Perplexity(1024, 6.95)),
                    results.perplexity());
            assertEquals(List.of(new JobResults.Passkey(1024, 0.6)), results.passkey());
            assertEquals(6.95, results.targetPerplexity());
            await("Results event", WAIT, () -> eventReasons(client, ns).contains("Results"));
            String summary = client.v1().events().inNamespace(ns).list().getItems().stream()
                    .filter(e -> "Results".equals(e.getReason()))
                    .findFirst()
                    .orElseThrow()
                    .getMessage();
            assertTrue(summary.startsWith("perplexity 9.500 at 256, 6.950 at 1024; passkey 60% at 1024"), summary);

            // the API server's own table (additionalPrinterColumns), as `kubectl get llj` prints it
            var table = server.kubectl().run("get", "llj", "evaluated", "-n", ns);
            assertEquals(0, table.exitCode(), table.describe());
            List<String> lines = table.stdout().lines().toList();
            // empty cells (Step, Loss: no progress here) are blanks, so read the cell under its header
            int column = lines.get(0).indexOf("PPL");
            assertTrue(column >= 0, table.stdout());
            assertEquals("6.95", lines.get(1).substring(column).split("\\s+")[0], table.stdout());

            // pods removed later (a cleanup, a drain): the reconciles their deletion triggers keep the results
            client.pods().inNamespace(ns).delete();
            await("pods gone", WAIT, () -> pods(client, ns).isEmpty());
            assertEquals(results, get(client, ns, "evaluated").getStatus().results());
        }
    }

    @Test
    void aMalformedReportLeavesResultsEmptyWithTheReasonAndTheJobSucceeds(
            KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "unreported", 1, 0, 3)).create();
            await("pod", WAIT, () -> gang(client, ns, 0).size() == 1);
            exit(client, gang(client, ns, 0).getFirst(), 0, "{\"perplexity\": \"garbled");
            await("Succeeded", WAIT, () -> phase(client, ns, "unreported") == JobPhase.Succeeded);
            LongLoRAJob job = get(client, ns, "unreported");
            assertNull(job.getStatus().results());
            var succeeded = job.getStatus().conditions().stream()
                    .filter(c -> c.getType().equals("Succeeded"))
                    .findFirst()
                    .orElseThrow();
            assertEquals("True", succeeded.getStatus());
            assertEquals("SucceededWithoutResults", succeeded.getReason());
            assertTrue(
                    succeeded
                            .getMessage()
                            .contains("no results from unreported-node-0: the termination message is not"
                                    + " a results report"),
                    succeeded.getMessage());
            await("warning", WAIT, () -> eventReasons(client, ns).contains("ResultsUnavailable"));
        }
    }
}

package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.PodTemplateOverlay;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class JobTopologyTest {

    static Map<String, String> env(Pod pod) {
        return trainer(pod).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    static Container trainer(Pod pod) {
        return pod.getSpec().getContainers().getFirst();
    }

    @Test
    void everyPodOfAFourNodeGangCarriesItsRankWiring() {
        JobTopology t = new JobTopology(TestJobs.job(4, 8), TestJobs.SETTINGS);
        List<Pod> pods = t.pods(2);
        assertEquals(4, pods.size());
        for (int i = 0; i < 4; i++) {
            Pod pod = pods.get(i);
            assertEquals("llama-node-" + i, pod.getMetadata().getName());
            Map<String, String> env = env(pod);
            assertEquals("4", env.get("NNODES"));
            assertEquals(Integer.toString(i), env.get("NODE_RANK"));
            assertEquals("8", env.get("GPUS_PER_NODE"));
            assertEquals("32", env.get("WORLD_SIZE"));
            assertEquals("llama-node-0.llama.ml.svc", env.get("MASTER_ADDR"));
            assertEquals("29500", env.get("MASTER_PORT"));
            assertEquals("3", env.get("ZERO_STAGE"));
            assertEquals("/checkpoints", env.get("CHECKPOINT_DIR"));
            assertEquals("latest", env.get("RESUME_FROM"));
            assertEquals("llama", env.get("LONGLORA_JOB_NAME"));
            assertEquals("ml", env.get("LONGLORA_NAMESPACE"));
            assertEquals("llama-node-" + i, env.get("POD_NAME"));
            assertEquals("2", env.get("LONGLORA_RESTART"), "the gang generation, presented at the rendezvous");
            assertEquals("llama-node-" + i, pod.getSpec().getHostname());
            assertEquals("llama", pod.getSpec().getSubdomain());
            assertEquals("Never", pod.getSpec().getRestartPolicy());
            assertEquals(
                    Map.of(
                            "app.kubernetes.io/name",
                            "longlora-trainer",
                            "app.kubernetes.io/managed-by",
                            "longlora-operator",
                            "longlora.dev/job-name",
                            "llama",
                            "longlora.dev/node-index",
                            Integer.toString(i),
                            "longlora.dev/restart",
                            "2"),
                    pod.getMetadata().getLabels());
            assertEquals(
                    new Quantity("8"), trainer(pod).getResources().getLimits().get("nvidia.com/gpu"));
            assertEquals(
                    List.of("train", "--config", "/etc/longlora/job.json"),
                    trainer(pod).getArgs());
        }
    }

    @Test
    void cpuOnlyJobAsksForNoGpusAndCountsOneRankPerPod() {
        JobTopology t = new JobTopology(TestJobs.job(2, 0), TestJobs.SETTINGS);
        for (Pod pod : t.pods(0)) {
            assertEquals("2", env(pod).get("WORLD_SIZE"));
            assertEquals("0", env(pod).get("GPUS_PER_NODE"));
            assertNull(trainer(pod).getResources().getLimits());
        }
    }

    @Test
    void podMountsConfigReadOnlyCheckpointsAndMemoryBackedShm() {
        Pod pod = new JobTopology(TestJobs.job(1, 8), TestJobs.SETTINGS).pod(0, 0);
        Map<String, VolumeMount> mounts =
                trainer(pod).getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
        assertTrue(mounts.get("/etc/longlora").getReadOnly());
        assertEquals("checkpoints", mounts.get("/checkpoints").getName());
        Map<String, Volume> volumes =
                pod.getSpec().getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        assertEquals(
                "Memory",
                volumes.get(mounts.get("/dev/shm").getName()).getEmptyDir().getMedium());
        assertEquals("llama-config", volumes.get("config").getConfigMap().getName());
        assertEquals(
                "llama-checkpoints",
                volumes.get("checkpoints").getPersistentVolumeClaim().getClaimName());
        assertEquals("llama-trainer", pod.getSpec().getServiceAccountName());
    }

    @Test
    void podMeetsTheRestrictedPodSecurityProfile() {
        Pod pod = new JobTopology(TestJobs.job(1, 8), TestJobs.SETTINGS).pod(0, 0);
        assertTrue(pod.getSpec().getSecurityContext().getRunAsNonRoot());
        assertEquals(
                "RuntimeDefault",
                pod.getSpec().getSecurityContext().getSeccompProfile().getType());
        assertFalse(trainer(pod).getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(
                List.of("ALL"),
                trainer(pod).getSecurityContext().getCapabilities().getDrop());
        assertTrue(trainer(pod).getSecurityContext().getReadOnlyRootFilesystem());
        Map<String, VolumeMount> mounts =
                trainer(pod).getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
        Volume tmp = pod.getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mounts.get("/tmp").getName()))
                .findFirst()
                .orElseThrow();
        assertTrue(tmp.getEmptyDir() != null, "writable /tmp on an emptyDir under the read-only root filesystem");
    }

    @Test
    void overlayIsMergedButNeverOverridesTheRankWiring() {
        PodTemplateOverlay overlay = new PodTemplateOverlay(
                Map.of("team", "nlp", "longlora.dev/job-name", "evil"),
                Map.of("k8s.v1.cni.cncf.io/networks", "rdma-net"),
                List.of(
                        new EnvVarBuilder()
                                .withName("NCCL_IB_HCA")
                                .withValue("mlx5")
                                .build(),
                        new EnvVarBuilder()
                                .withName("WORLD_SIZE")
                                .withValue("999")
                                .build()),
                null,
                List.of(
                        new VolumeBuilder()
                                .withName("models")
                                .withNewPersistentVolumeClaim()
                                .withClaimName("models")
                                .endPersistentVolumeClaim()
                                .build(),
                        new VolumeBuilder()
                                .withName("config")
                                .withNewEmptyDir()
                                .endEmptyDir()
                                .build()),
                List.of(
                        new VolumeMountBuilder()
                                .withName("models")
                                .withMountPath("/models")
                                .withReadOnly(true)
                                .build(),
                        new VolumeMountBuilder()
                                .withName("models")
                                .withMountPath("/checkpoints")
                                .build()),
                List.of(new LocalObjectReference("regcred")),
                null,
                null,
                Map.of("rdma/hca", new Quantity("1")),
                new Quantity("64Gi"));
        LongLoRAJob job = TestJobs.job("llama", TestJobs.withOverlay(TestJobs.spec(1, 8), overlay));
        Pod pod = new JobTopology(job, TestJobs.SETTINGS).pod(0, 0);
        Map<String, String> env = env(pod);
        assertEquals("mlx5", env.get("NCCL_IB_HCA"));
        assertEquals("8", env.get("WORLD_SIZE"));
        assertEquals(
                1,
                trainer(pod).getEnv().stream()
                        .filter(e -> e.getName().equals("WORLD_SIZE"))
                        .count());
        assertEquals("nlp", pod.getMetadata().getLabels().get("team"));
        assertEquals("llama", pod.getMetadata().getLabels().get("longlora.dev/job-name"));
        assertEquals("rdma-net", pod.getMetadata().getAnnotations().get("k8s.v1.cni.cncf.io/networks"));
        assertEquals(
                List.of("config", "checkpoints", "dshm", "tmp", "models"),
                pod.getSpec().getVolumes().stream().map(Volume::getName).toList());
        assertEquals("/models", trainer(pod).getVolumeMounts().get(4).getMountPath());
        assertEquals(5, trainer(pod).getVolumeMounts().size());
        assertEquals(new Quantity("1"), trainer(pod).getResources().getLimits().get("rdma/hca"));
        assertEquals(
                new Quantity("1"), trainer(pod).getResources().getRequests().get("rdma/hca"));
        assertEquals("regcred", pod.getSpec().getImagePullSecrets().getFirst().getName());
        assertEquals(
                "64Gi",
                pod.getSpec().getVolumes().get(2).getEmptyDir().getSizeLimit().toString());
    }

    @Test
    void serviceIsHeadlessAndPublishesNotReadyPods() {
        var svc = new JobTopology(TestJobs.job(2, 8), TestJobs.SETTINGS).service();
        assertEquals("llama", svc.getMetadata().getName());
        assertEquals("None", svc.getSpec().getClusterIP());
        assertTrue(svc.getSpec().getPublishNotReadyAddresses());
        assertEquals(Map.of("longlora.dev/job-name", "llama"), svc.getSpec().getSelector());
        assertEquals(29500, svc.getSpec().getPorts().getFirst().getPort());
    }

    @Test
    void roleOnlyLetsTheTrainerGetAndPatchThisJobsPods() {
        JobTopology t = new JobTopology(TestJobs.job(3, 8), TestJobs.SETTINGS);
        List<PolicyRule> rules = t.role().getRules();
        assertEquals(1, rules.size());
        assertEquals(List.of(""), rules.getFirst().getApiGroups());
        assertEquals(List.of("pods"), rules.getFirst().getResources());
        assertEquals(List.of("get", "patch"), rules.getFirst().getVerbs());
        assertEquals(
                List.of("llama-node-0", "llama-node-1", "llama-node-2"),
                rules.getFirst().getResourceNames());
        var binding = t.roleBinding();
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals("llama-trainer", binding.getRoleRef().getName());
        assertEquals("ServiceAccount", binding.getSubjects().getFirst().getKind());
        assertEquals("llama-trainer", binding.getSubjects().getFirst().getName());
        assertEquals("ml", binding.getSubjects().getFirst().getNamespace());
    }

    @Test
    void everythingButTheCheckpointClaimIsOwnedByTheJob() {
        JobTopology t = new JobTopology(TestJobs.job(2, 8), TestJobs.SETTINGS);
        List<HasMetadata> objects = t.supportingObjects();
        assertEquals(
                List.of("PersistentVolumeClaim", "Service", "ConfigMap", "ServiceAccount", "Role", "RoleBinding"),
                objects.stream().map(HasMetadata::getKind).toList());
        for (HasMetadata o : objects) {
            boolean claim = o.getKind().equals("PersistentVolumeClaim");
            assertEquals(claim ? 0 : 1, o.getMetadata().getOwnerReferences().size(), o.getKind());
        }
        var owner = t.pod(0, 0).getMetadata().getOwnerReferences().getFirst();
        assertEquals("LongLoRAJob", owner.getKind());
        assertEquals("longlora.dev/v1alpha1", owner.getApiVersion());
        assertEquals("0000-uid-llama", owner.getUid());
        assertTrue(owner.getController());
    }

    @Test
    void checkpointClaimFollowsTheStorageSpecAndDeleteWithJob() {
        LongLoRAJobSpec s = TestJobs.spec(2, 8);
        var claim = new JobTopology(TestJobs.job("llama", s), TestJobs.SETTINGS)
                .checkpointClaim()
                .orElseThrow();
        assertEquals("llama-checkpoints", claim.getMetadata().getName());
        assertEquals(List.of("ReadWriteMany"), claim.getSpec().getAccessModes());
        assertEquals("fast", claim.getSpec().getStorageClassName());
        assertEquals(
                new Quantity("1Ti"),
                claim.getSpec().getResources().getRequests().get("storage"));

        LongLoRAJobSpec owned =
                withCheckpoint(s, new CheckpointSpec(null, s.checkpoint().storage(), 50, 2, true));
        var ownedClaim = new JobTopology(TestJobs.job("llama", owned), TestJobs.SETTINGS)
                .checkpointClaim()
                .orElseThrow();
        assertEquals(1, ownedClaim.getMetadata().getOwnerReferences().size());

        LongLoRAJobSpec named = withCheckpoint(s, new CheckpointSpec("shared-ckpt", null, null, null, null));
        JobTopology t = new JobTopology(TestJobs.job("llama", named), TestJobs.SETTINGS);
        assertTrue(t.checkpointClaim().isEmpty());
        assertEquals(
                "shared-ckpt",
                t.pod(0, 0)
                        .getSpec()
                        .getVolumes()
                        .get(1)
                        .getPersistentVolumeClaim()
                        .getClaimName());
    }

    static LongLoRAJobSpec withCheckpoint(LongLoRAJobSpec s, CheckpointSpec c) {
        return TestJobs.withFields(s, java.util.Map.of("checkpoint", c));
    }
}

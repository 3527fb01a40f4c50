package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.WAIT;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.gang;
import static dev.longlora.operator.reconcile.RunningOperator.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.PodTemplateOverlay;
import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.RepositoryLayout;
import dev.longlora.operator.it.TestNamespace;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What multi-node GPU jobs need from the pod, through the operator into pods the real API server stores: the RDMA
 * example's NCCL environment, network attachment, RDMA device resource and IPC_LOCK; and the host-network mode.
 */
@RealApiServerTest
class NcclWiringOnApiServerTest {

    static Container trainer(Pod pod) {
        return pod.getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("trainer"))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theRdmaExampleReachesEveryWorkerPod(KubernetesClient client, TestNamespace namespace) throws Exception {
        String ns = namespace.name();
        LongLoRAJob job = Serialization.unmarshal(
                Files.readString(RepositoryLayout.examples().resolve("llama2-13b-64k-h100-rdma.yaml")),
                LongLoRAJob.class);
        job.getMetadata().setNamespace(ns);
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job).create();
            await("2 pods", WAIT, () -> gang(client, ns, 0).size() == 2);
            for (Pod pod : gang(client, ns, 0)) {
                Map<String, String> env = trainer(pod).getEnv().stream()
                        .filter(e -> e.getValue() != null)
                        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> b));
                assertEquals("eth0", env.get("NCCL_SOCKET_IFNAME"));
                assertEquals("mlx5", env.get("NCCL_IB_HCA"));
                assertEquals("3", env.get("NCCL_IB_GID_INDEX"));
                assertEquals("rdma-roce", pod.getMetadata().getAnnotations().get("k8s.v1.cni.cncf.io/networks"));
                var resources = trainer(pod).getResources();
                assertEquals(new Quantity("1"), resources.getLimits().get("rdma/rdma_shared_device_a"));
                assertEquals(new Quantity("8"), resources.getLimits().get("nvidia.com/gpu"));
                assertEquals(
                        List.of("IPC_LOCK"),
                        trainer(pod).getSecurityContext().getCapabilities().getAdd());
                assertTrue(
                        pod.getSpec().getVolumes().stream()
                                .anyMatch(v -> v.getEmptyDir() != null
                                        && "Memory".equals(v.getEmptyDir().getMedium())
                                        && new Quantity("64Gi")
                                                .equals(v.getEmptyDir().getSizeLimit())),
                        "/dev/shm sized for NCCL");
            }
        }
    }

    @Test
    void hostNetworkPodsAreStoredWithClusterDnsAndTheHostPort(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        LongLoRAJob job = GangReconcileOnApiServerTest.job(ns, "hostnet", 2, 8, 2);
        var spec = dev.longlora.operator.topology.TestJobs.withOverlay(
                job.getSpec(),
                new PodTemplateOverlay(null, null, null, null, null, null, null, null, null, null, null, true));
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(new LongLoRAJob(ns, "hostnet", spec)).create();
            await("2 pods", WAIT, () -> gang(client, ns, 0).size() == 2);
            for (Pod pod : gang(client, ns, 0)) {
                assertEquals(true, pod.getSpec().getHostNetwork());
                assertEquals("ClusterFirstWithHostNet", pod.getSpec().getDnsPolicy());
                assertEquals(29500, trainer(pod).getPorts().getFirst().getHostPort());
            }
        }
    }
}

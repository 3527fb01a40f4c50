package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.longlora.operator.api.PodTemplateOverlay;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

/** podTemplate.hostNetwork: NCCL on the node's own NICs, with cluster DNS kept and the port claimed on the node. */
class HostNetworkTest {

    static Pod rank0(Boolean hostNetwork) {
        PodTemplateOverlay overlay =
                new PodTemplateOverlay(null, null, null, null, null, null, null, null, null, null, null, hostNetwork);
        return new JobTopology(
                        TestJobs.job("hn", TestJobs.withOverlay(TestJobs.spec(2, 8), overlay)), TestJobs.SETTINGS)
                .pod(0, 0);
    }

    @Test
    void hostNetworkKeepsClusterDnsAndClaimsTheRendezvousPortOnTheNode() {
        Pod pod = rank0(true);
        assertEquals(true, pod.getSpec().getHostNetwork());
        assertEquals("ClusterFirstWithHostNet", pod.getSpec().getDnsPolicy(), "MASTER_ADDR is a service name");
        var port = pod.getSpec().getContainers().getFirst().getPorts().getFirst();
        assertEquals(29500, port.getContainerPort());
        assertEquals(29500, port.getHostPort());
    }

    @Test
    void byDefaultPodsStayOnThePodNetwork() {
        for (Boolean off : new Boolean[] {null, false}) {
            Pod pod = rank0(off);
            assertNull(pod.getSpec().getHostNetwork());
            assertNull(pod.getSpec().getDnsPolicy());
            assertNull(pod.getSpec()
                    .getContainers()
                    .getFirst()
                    .getPorts()
                    .getFirst()
                    .getHostPort());
        }
    }
}

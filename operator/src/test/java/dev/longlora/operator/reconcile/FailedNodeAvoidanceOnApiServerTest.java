package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.WAIT;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.eventReasons;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.exit;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.gang;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.get;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.job;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.phase;
import static dev.longlora.operator.reconcile.GangReconcileOnApiServerTest.run;
import static dev.longlora.operator.reconcile.RunningOperator.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.AvoidedNode;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.TestNamespace;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Failed-node avoidance on a real kube-apiserver: the node of a worker that exited NodeUnfit is recorded in status,
 * and the API server accepts the next gang's pods with the node excluded. The tests play the scheduler (a binding
 * per pod) and the kubelet (pod status).
 */
@RealApiServerTest
class FailedNodeAvoidanceOnApiServerTest {

    /** Plays the scheduler: binds {@code pod} to {@code node} through the pods/binding subresource. */
    static void bind(KubernetesClient client, Pod pod, String node) {
        client.bindings()
                .inNamespace(pod.getMetadata().getNamespace())
                .resource(new BindingBuilder()
                        .withNewMetadata()
                        .withName(pod.getMetadata().getName())
                        .endMetadata()
                        .withNewTarget()
                        .withKind("Node")
                        .withName(node)
                        .endTarget()
                        .build())
                .create();
    }

    @Test
    void theNextGangIsKeptOffTheNodeWithoutAUsableGpu(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        try (RunningOperator operator = new RunningOperator(client, ns)) {
            client.resource(job(ns, "unfit", 2, 8, 2)).create();
            await("gang 0", WAIT, () -> gang(client, ns, 0).size() == 2);
            List<Pod> first = gang(client, ns, 0);
            bind(client, first.get(0), "gpu-a");
            bind(client, first.get(1), "gpu-b");
            first.forEach(p -> run(client, p));
            await("Running", WAIT, () -> phase(client, ns, "unfit") == JobPhase.Running);

            // node-1's trainer found no usable GPU stack; node-0 then lost its peer.
            exit(client, gang(client, ns, 0).get(1), 12);
            exit(client, gang(client, ns, 0).get(0), 10);
            await("gang 1", WAIT, () -> gang(client, ns, 1).size() == 2);

            LongLoRAJob job = get(client, ns, "unfit");
            assertEquals("NodeUnfit", job.getStatus().lastFailure().reason());
            assertEquals("gpu-b", job.getStatus().lastFailure().node());
            List<AvoidedNode> avoided = job.getStatus().avoidedNodes();
            assertEquals(1, avoided.size(), String.valueOf(avoided));
            assertEquals("gpu-b", avoided.get(0).node());
            assertTrue(avoided.get(0).required());
            for (Pod p : gang(client, ns, 1)) {
                var terms = p.getSpec()
                        .getAffinity()
                        .getNodeAffinity()
                        .getRequiredDuringSchedulingIgnoredDuringExecution()
                        .getNodeSelectorTerms();
                assertEquals(
                        List.of(new NodeSelectorRequirement("metadata.name", "NotIn", List.of("gpu-b"))),
                        terms.get(0).getMatchFields(),
                        "as stored by the API server");
            }
            await("AvoidingNode event", WAIT, () -> eventReasons(client, ns).contains("AvoidingNode"));
        }
    }
}

package dev.longlora.operator.reconcile;

import static dev.longlora.operator.reconcile.JobPlannerTest.T0;
import static dev.longlora.operator.reconcile.JobPlannerTest.observed;
import static dev.longlora.operator.reconcile.JobPlannerTest.withStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.AvoidedNode;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.reconcile.Action.CreatePod;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import dev.longlora.operator.topology.TestJobs;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A node a worker failed on is recorded and kept away from the next gangs, for a while. */
class FailedNodeAvoidanceTest {
    final JobPlanner planner = new JobPlanner(TestJobs.SETTINGS);

    static Pod on(Pod pod, String node) {
        return new PodBuilder(pod).editSpec().withNodeName(node).endSpec().build();
    }

    /** A running 2-node gang on gpu-a and gpu-b in which node-1 (on gpu-b) exited {@code code}. */
    LongLoRAJobStatus afterFailure(LongLoRAJob job, int code, int peerCode) {
        LongLoRAJobStatus pending = planner.plan(job, Observed.empty(), T0).status();
        List<Pod> pods = List.of(
                on(JobPlannerTest.pod(job, 0, 0, "Failed", peerCode), "gpu-a"),
                on(JobPlannerTest.pod(job, 1, 0, "Failed", code), "gpu-b"));
        Plan plan = planner.plan(withStatus(job, pending), observed(job, pods), T0.plusSeconds(60));
        assertEquals(JobPhase.Restarting, plan.status().phase());
        return plan.status();
    }

    /** The pods of the next gang, planned once the failed gang is gone. */
    List<Pod> nextGang(LongLoRAJob job, LongLoRAJobStatus status, Instant at) {
        return planner.plan(withStatus(job, status), observed(job, List.of()), at).actions(CreatePod.class).stream()
                .map(CreatePod::pod)
                .toList();
    }

    @Test
    void aNodeWithoutAUsableGpuIsExcludedAndTheSurvivorsLostPeerIsNotBlamed() {
        LongLoRAJob job = TestJobs.job(2, 8);
        // node-1 found no GPU stack (12); node-0 then lost its peer (10) and is not the cause.
        LongLoRAJobStatus status = afterFailure(job, 12, 10);
        assertEquals("NodeUnfit", status.lastFailure().reason());
        assertEquals("gpu-b", status.lastFailure().node());
        assertEquals(1, status.avoidedNodes().size());
        AvoidedNode avoided = status.avoidedNodes().get(0);
        assertEquals("gpu-b", avoided.node());
        assertTrue(avoided.required());
        assertEquals(T0.plusSeconds(60).plus(JobPlanner.FAILED_NODE_AVOIDANCE).toString(), avoided.until());

        List<Pod> next = nextGang(job, status, T0.plusSeconds(90));
        assertEquals(2, next.size());
        for (Pod p : next) {
            var terms = p.getSpec()
                    .getAffinity()
                    .getNodeAffinity()
                    .getRequiredDuringSchedulingIgnoredDuringExecution()
                    .getNodeSelectorTerms();
            assertEquals(1, terms.size());
            assertEquals(
                    List.of(new NodeSelectorRequirement("metadata.name", "NotIn", List.of("gpu-b"))),
                    terms.get(0).getMatchFields());
        }
    }

    @Test
    void anUnexpectedErrorOnlyLowersTheNodesScoreSoASingleNodeClusterStillRuns() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus status = afterFailure(job, 1, 10);
        AvoidedNode avoided = status.avoidedNodes().get(0);
        assertEquals("gpu-b", avoided.node());
        assertEquals("UnexpectedError", avoided.reason());
        assertTrue(!avoided.required());
        Pod next = nextGang(job, status, T0.plusSeconds(90)).get(0);
        var affinity = next.getSpec().getAffinity().getNodeAffinity();
        assertNull(affinity.getRequiredDuringSchedulingIgnoredDuringExecution());
        var preferred = affinity.getPreferredDuringSchedulingIgnoredDuringExecution();
        assertEquals(1, preferred.size());
        assertEquals(100, preferred.get(0).getWeight());
        assertEquals(
                List.of("gpu-b"),
                preferred.get(0).getPreference().getMatchFields().get(0).getValues());
    }

    @Test
    void theAvoidanceExpiresAndARequestedStopAvoidsNothing() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus status = afterFailure(job, 12, 10);
        Instant later = T0.plusSeconds(61).plus(JobPlanner.FAILED_NODE_AVOIDANCE);
        Pod next = nextGang(job, status, later).get(0);
        assertNull(next.getSpec().getAffinity(), "an expired avoidance no longer shapes the pods");

        LongLoRAJob stopped = TestJobs.job(2, 8);
        LongLoRAJobStatus afterStop = afterFailure(stopped, 11, 11);
        assertNull(afterStop.avoidedNodes(), "a preemption (exit 11) says nothing about the node");
    }

    @Test
    void anEventSaysWhichNodeIsAvoided() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus pending = planner.plan(job, Observed.empty(), T0).status();
        List<Pod> pods = List.of(
                on(JobPlannerTest.pod(job, 0, 0, "Running", null), "gpu-a"),
                on(JobPlannerTest.pod(job, 1, 0, "Failed", 12), "gpu-b"));
        Plan plan = planner.plan(withStatus(job, pending), observed(job, pods), T0.plusSeconds(60));
        assertTrue(
                plan.actions(RecordEvent.class).stream()
                        .anyMatch(e ->
                                e.reason().equals("AvoidingNode") && e.message().contains("gpu-b")),
                plan.actions(RecordEvent.class).toString());
    }
}

package dev.longlora.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.longlora.contract.ProgressReport;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerObservationTest {
    static PodBuilder pod(String phase) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("j-node-1")
                .withLabels(Map.of("longlora.dev/node-index", "1", "longlora.dev/restart", "4"))
                .endMetadata()
                .withNewStatus()
                .withPhase(phase)
                .endStatus();
    }

    @Test
    void readsIndexGenerationAndState() {
        WorkerObservation w = WorkerObservation.of(pod("Pending").build());
        assertEquals(1, w.nodeIndex());
        assertEquals(4, w.restartGeneration());
        assertEquals(WorkerState.PENDING, w.state());
    }

    @Test
    void runningIsReadyOnlyWithAReadyTrainerContainer() {
        Pod notReady = pod("Running")
                .editStatus()
                .withContainerStatuses(new ContainerStatusBuilder()
                        .withName("trainer")
                        .withReady(false)
                        .build())
                .endStatus()
                .build();
        Pod ready = pod("Running")
                .editStatus()
                .withContainerStatuses(new ContainerStatusBuilder()
                        .withName("trainer")
                        .withReady(true)
                        .build())
                .endStatus()
                .build();
        assertEquals(WorkerState.RUNNING, WorkerObservation.of(notReady).state());
        assertEquals(WorkerState.READY, WorkerObservation.of(ready).state());
    }

    @Test
    void failedPodCarriesTheTrainerExitCodeOrThePodReason() {
        Pod exited = pod("Failed")
                .editStatus()
                .withContainerStatuses(
                        new ContainerStatusBuilder()
                                .withName("sidecar")
                                .withNewState()
                                .withNewTerminated()
                                .withExitCode(1)
                                .endTerminated()
                                .endState()
                                .build(),
                        new ContainerStatusBuilder()
                                .withName("trainer")
                                .withNewState()
                                .withNewTerminated()
                                .withExitCode(4)
                                .endTerminated()
                                .endState()
                                .build())
                .endStatus()
                .build();
        assertEquals(4, WorkerObservation.of(exited).exitCode());
        Pod evicted =
                pod("Failed").editStatus().withReason("Evicted").endStatus().build();
        WorkerObservation w = WorkerObservation.of(evicted);
        assertEquals(WorkerState.FAILED, w.state());
        assertNull(w.exitCode());
        assertEquals("Evicted", w.podReason());
    }

    @Test
    void aPodBeingDeletedIsTerminatingWhateverItsPhase() {
        Pod deleting = pod("Running")
                .editMetadata()
                .withDeletionTimestamp("2026-11-26T10:00:00Z")
                .endMetadata()
                .build();
        assertEquals(WorkerState.TERMINATING, WorkerObservation.of(deleting).state());
    }

    @Test
    void aPendingPodSaysWhyItWaits() {
        Pod pulling = pod("Pending")
                .editStatus()
                .withContainerStatuses(new ContainerStatusBuilder()
                        .withName("trainer")
                        .withNewState()
                        .withNewWaiting()
                        .withReason("ImagePullBackOff")
                        .withMessage("not found")
                        .endWaiting()
                        .endState()
                        .build())
                .endStatus()
                .build();
        assertEquals(
                "ImagePullBackOff: not found", WorkerObservation.of(pulling).waitingFor());
        assertNull(WorkerObservation.of(pod("Pending").build()).waitingFor());
    }

    @Test
    void malformedProgressIsIgnored() {
        assertEquals(java.util.Optional.empty(), ProgressReport.parse("{not json"));
        assertEquals(
                42L,
                ProgressReport.parse("{\"step\": 42, \"future\": true}")
                        .orElseThrow()
                        .step());
    }
}

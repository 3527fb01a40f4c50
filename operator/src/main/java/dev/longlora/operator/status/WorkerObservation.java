package dev.longlora.operator.status;

import dev.longlora.contract.Annotations;
import dev.longlora.contract.Labels;
import dev.longlora.contract.PodPaths;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.Map;

/**
 * One observed trainer pod: its place in the gang and how it is doing; {@code terminationMessage} is the trainer
 * container's, once it ended (rank 0's results report, contract section 8).
 */
public record WorkerObservation(
        String name,
        int nodeIndex,
        int restartGeneration,
        WorkerState state,
        Integer exitCode,
        String podReason,
        String progressAnnotation,
        String createdAt,
        String waitingFor,
        String terminationMessage,
        String nodeName) {

    public static WorkerObservation of(Pod pod) {
        Map<String, String> labels = pod.getMetadata().getLabels() == null
                ? Map.of()
                : pod.getMetadata().getLabels();
        int index = parse(labels.get(Labels.NODE_INDEX), -1);
        int generation = parse(labels.get(Labels.RESTART), -1);
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        String progress = annotations == null ? null : annotations.get(Annotations.PROGRESS);
        ContainerStatus trainer = null;
        if (pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null) {
            trainer = pod.getStatus().getContainerStatuses().stream()
                    .filter(c -> PodPaths.TRAINER_CONTAINER.equals(c.getName()))
                    .findFirst()
                    .orElse(null);
        }
        ContainerStateTerminated terminated = trainer != null && trainer.getState() != null
                ? trainer.getState().getTerminated()
                : null;
        Integer exitCode = terminated != null ? terminated.getExitCode() : null;
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        String reason = pod.getStatus() == null ? null : pod.getStatus().getReason();
        WorkerState state;
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            state = WorkerState.TERMINATING;
        } else if ("Succeeded".equals(phase)) {
            state = WorkerState.SUCCEEDED;
        } else if ("Failed".equals(phase)) {
            state = WorkerState.FAILED;
        } else if ("Running".equals(phase)) {
            state = trainer != null && Boolean.TRUE.equals(trainer.getReady())
                    ? WorkerState.READY
                    : WorkerState.RUNNING;
        } else {
            state = WorkerState.PENDING;
        }
        return new WorkerObservation(
                pod.getMetadata().getName(),
                index,
                generation,
                state,
                exitCode,
                reason,
                progress,
                pod.getMetadata().getCreationTimestamp(),
                state == WorkerState.PENDING ? waitingFor(pod, trainer) : null,
                terminated != null ? terminated.getMessage() : null,
                pod.getSpec() == null ? null : pod.getSpec().getNodeName());
    }

    /** Why a pending pod is not running yet: unschedulable (no GPUs free), image pull errors, bad config refs. */
    static String waitingFor(Pod pod, ContainerStatus trainer) {
        if (trainer != null
                && trainer.getState() != null
                && trainer.getState().getWaiting() != null
                && trainer.getState().getWaiting().getReason() != null) {
            var waiting = trainer.getState().getWaiting();
            return waiting.getReason() + (waiting.getMessage() != null ? ": " + waiting.getMessage() : "");
        }
        if (pod.getStatus() != null && pod.getStatus().getConditions() != null) {
            for (PodCondition c : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
                    return (c.getReason() != null ? c.getReason() : "NotScheduled")
                            + (c.getMessage() != null ? ": " + c.getMessage() : "");
                }
            }
        }
        return null;
    }

    private static int parse(String value, int fallback) {
        try {
            return value == null ? fallback : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}

package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Observed state, written only by the operator through the status subresource. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LongLoRAJobStatus(
        @JsonPropertyDescription("Pending, Running, Restarting, Suspended, Succeeded or Failed.")
        JobPhase phase,

        @JsonPropertyDescription("Created, Running, Restarting, Suspended, Succeeded, Failed; Kubernetes form.")
        List<Condition> conditions,

        @JsonPropertyDescription("The metadata.generation this status describes.")
        Long observedGeneration,

        @JsonPropertyDescription("Worker pods of the current gang.")
        WorkerCounts workers,

        @JsonPropertyDescription("Gang restarts so far; also the restart generation labelled on the pods.")
        Integer restarts,

        @JsonPropertyDescription(
                "Of those, restarts after the trainer saved a checkpoint and stopped on request (exit code 11:"
                        + " preemption, eviction, drain); not counted against backoffLimit.")
        Integer requestedStops,

        @JsonPropertyDescription("When the current run started (reset by suspend, as for a Kubernetes Job).")
        String startTime,

        @JsonPropertyDescription("When the job succeeded or failed.")
        String completionTime,

        @JsonPropertyDescription("What is happening, for humans.")
        String message,

        @JsonPropertyDescription("The last worker failure the operator acted on.")
        WorkerFailure lastFailure,

        @JsonPropertyDescription("Trainer progress reported by rank 0.")
        TrainingProgress progress,

        @JsonPropertyDescription("The newest complete checkpoint reported by rank 0.")
        CheckpointRef lastCheckpoint,

        @JsonPropertyDescription(
                "Outputs and their quality, reported by rank 0 when the job succeeded (kept after the pods are gone).")
        JobResults results,

        @JsonPropertyDescription(
                "Nodes this job's workers failed on, which its next gangs avoid until each entry's time (docs/api.md).")
        List<AvoidedNode> avoidedNodes) {

    /** A status that avoids no node. */
    public LongLoRAJobStatus(
            JobPhase phase,
            List<Condition> conditions,
            Long observedGeneration,
            WorkerCounts workers,
            Integer restarts,
            Integer requestedStops,
            String startTime,
            String completionTime,
            String message,
            WorkerFailure lastFailure,
            TrainingProgress progress,
            CheckpointRef lastCheckpoint,
            JobResults results) {
        this(
                phase,
                conditions,
                observedGeneration,
                workers,
                restarts,
                requestedStops,
                startTime,
                completionTime,
                message,
                lastFailure,
                progress,
                lastCheckpoint,
                results,
                null);
    }

    /** The same status with another message. */
    public LongLoRAJobStatus withMessage(String newMessage) {
        return new LongLoRAJobStatus(
                phase,
                conditions,
                observedGeneration,
                workers,
                restarts,
                requestedStops,
                startTime,
                completionTime,
                newMessage,
                lastFailure,
                progress,
                lastCheckpoint,
                results,
                avoidedNodes);
    }

    public static LongLoRAJobStatus initial() {
        return new LongLoRAJobStatus(
                JobPhase.Pending,
                List.of(),
                null,
                new WorkerCounts(0, 0, 0),
                0,
                0,
                null,
                null,
                "waiting for the first reconcile",
                null,
                null,
                null,
                null);
    }
}

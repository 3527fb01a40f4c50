package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The last worker failure the operator acted on. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerFailure(
        @JsonPropertyDescription("The failed pod.") String pod,

        @JsonPropertyDescription("Exit code of the trainer container, when it exited.")
        Integer exitCode,

        @JsonPropertyDescription(
                "Classification (docs/contract.md section 7): InvalidConfig, InvalidModelOrData, OutOfMemory, LossDiverged,"
                        + " UnexpectedError, LostPeer, Stopped, NodeUnfit, Signal, Unknown; or the pod's reason, e.g."
                        + " Evicted, Deleted.")
        String reason,

        @JsonPropertyDescription("Whether the failure ends the job without a restart.")
        boolean permanent,

        @JsonPropertyDescription("When the operator saw it (RFC 3339).")
        String time,

        @JsonPropertyDescription("The node the failed pod ran on, when it had been scheduled.")
        String node) {

    /** A failure not tied to a node (a stall, a deleted pod that never ran). */
    public WorkerFailure(String pod, Integer exitCode, String reason, boolean permanent, String time) {
        this(pod, exitCode, reason, permanent, time, null);
    }
}

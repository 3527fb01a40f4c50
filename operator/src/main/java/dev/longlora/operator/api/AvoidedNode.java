package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A node a worker of this job failed on, which the job's next gangs stay away from until {@code until}: a node
 * with a broken GPU would otherwise take every restart.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AvoidedNode(
        @JsonPropertyDescription("The node's name (metadata.name).")
        String node,

        @JsonPropertyDescription("Why: the failure's reason (e.g. NodeUnfit, UnexpectedError, Evicted).")
        String reason,

        @JsonPropertyDescription(
                "true: the pods must not run there (the trainer found no usable GPU, driver or NCCL on it, exit 12);"
                        + " false: the scheduler prefers other nodes but may still use it when nothing else fits.")
        boolean required,

        @JsonPropertyDescription("When the avoidance ends (RFC 3339); it also ends when the job succeeds.")
        String until) {}

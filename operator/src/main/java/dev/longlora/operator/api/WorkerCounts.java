package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Worker pods of the current gang. */
public record WorkerCounts(
        @JsonPropertyDescription("Pods the gang needs (spec.distributed.nodes; 0 while suspended or finished).")
        int desired,

        @JsonPropertyDescription("Pods running with a ready trainer container.")
        int ready,

        @JsonPropertyDescription("Pods that ended with an error.")
        int failed) {}

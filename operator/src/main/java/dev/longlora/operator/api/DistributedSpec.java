package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** The gang: nodes x GPUs per node ranks, with ZeRO sharding across them. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DistributedSpec(
        @Default("1") @Min(1) @Max(512) @JsonPropertyDescription("Pods in the gang, one per node.")
        Integer nodes,

        @Default("8")
        @Min(0)
        @Max(8)
        @JsonPropertyDescription("GPUs per pod (one rank each), 0..8; 0 runs one CPU rank per pod.")
        Integer gpusPerNode,

        @Default("2")
        @Min(0)
        @Max(3)
        @JsonPropertyDescription(
                "ZeRO stage 0..3: 0 plain data parallel, 1 optimizer, 2 +gradients, 3 +parameters sharded.")
        Integer zeroStage,

        @Default("false") @JsonPropertyDescription("Keep optimizer state in host memory.")
        Boolean offloadOptimizer,

        @Default("29500") @Min(1024) @Max(65535) @JsonPropertyDescription("Rendezvous port on pod 0.")
        Integer masterPort,

        @Default("600")
        @Min(1)
        @Max(86400)
        @JsonPropertyDescription(
                "Seconds the ranks wait for the whole gang at the rendezvous before exiting 10 (LostPeer).")
        Integer rendezvousTimeoutSeconds,

        @Default("600")
        @Min(1)
        @Max(86400)
        @JsonPropertyDescription("Seconds a rank waits in one collective for a silent peer before exiting 10"
                + " (LostPeer); covers the slowest rank's step and checkpoint writing.")
        Integer collectiveTimeoutSeconds) {}

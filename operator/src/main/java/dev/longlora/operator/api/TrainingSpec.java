package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Optimiser and schedule; defaults are LongLoRA's recipe (docs/contract.md section 4). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingSpec(
        @Default("1000") @Min(1) @JsonPropertyDescription("Optimiser steps to train.")
        Integer maxSteps,

        @Default("2.0e-5") @Min(0) @Max(1) @JsonPropertyDescription("Peak learning rate.")
        Double learningRate,

        @Default("20") @Min(0) @JsonPropertyDescription("Linear warm-up steps.")
        Integer warmupSteps,

        @Default("constant_with_warmup") @JsonPropertyDescription("Learning-rate schedule after warm-up.")
        Schedule schedule,

        @Default("1") @Min(1) @Max(1024) @JsonPropertyDescription("Sequences per rank per micro-step.")
        Integer microBatchSize,

        @Default("8") @Min(1) @Max(4096) @JsonPropertyDescription("Micro-steps accumulated into one optimiser step.")
        Integer gradientAccumulationSteps,

        @Default("1.0") @Min(0) @JsonPropertyDescription("Global gradient-norm clip; 0 disables clipping.")
        Double maxGradNorm,

        @Default("0.0") @Min(0) @JsonPropertyDescription("AdamW weight decay.")
        Double weightDecay,

        @Default("0.9") @Min(0) @Max(1) @JsonPropertyDescription("AdamW beta1.")
        Double adamBeta1,

        @Default("0.95") @Min(0) @Max(1) @JsonPropertyDescription("AdamW beta2.")
        Double adamBeta2,

        @Default("1.0e-8") @Min(0) @JsonPropertyDescription("AdamW epsilon.")
        Double adamEpsilon,

        @Default("bf16") @JsonPropertyDescription("Compute precision on GPUs (the CPU backend computes in fp32).")
        Precision precision,

        @Default("true") @JsonPropertyDescription("Recompute activations in backward to fit long contexts.")
        Boolean gradientCheckpointing,

        @Default("42") @Min(0) @JsonPropertyDescription("Random seed.")
        Long seed,

        @Default("10")
        @Min(1)
        @JsonPropertyDescription(
                "Seconds between rank 0's progress reports to its pod annotation (status.progress); checkpoints, phase changes and the end are reported at once regardless.")
        Integer progressEverySeconds) {

    /** Learning-rate schedules. */
    public enum Schedule {
        @JsonProperty("constant_with_warmup")
        CONSTANT_WITH_WARMUP,
        @JsonProperty("cosine")
        COSINE
    }

    /** Compute precisions. */
    public enum Precision {
        @JsonProperty("fp32")
        FP32,
        @JsonProperty("bf16")
        BF16
    }
}

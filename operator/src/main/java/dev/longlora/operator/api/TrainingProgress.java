package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Trainer progress, copied from rank 0's progress annotation (docs/contract.md section 6). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingProgress(
        Long step,
        Long totalSteps,
        Double loss,
        Double learningRate,
        Double tokensPerSecond,
        Long etaSeconds,
        String updateTime) {}

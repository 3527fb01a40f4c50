package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Trainer progress, copied from rank 0's progress annotation (docs/contract.md section 6), plus {@code
 * lastAdvanceTime}: the operator's own time when it first saw the current step, the stall clock's reference.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingProgress(
        Long step,
        Long totalSteps,
        Double loss,
        Double learningRate,
        Double tokensPerSecond,
        Long etaSeconds,

        @JsonPropertyDescription("When rank 0 wrote this report (its clock).")
        String updateTime,

        @JsonPropertyDescription("What rank 0 is doing: loading, training, checkpointing, merging, evaluating or done.")
        String phase,

        @JsonPropertyDescription(
                "When the operator first saw the current step (its clock): spec.progressDeadlineSeconds counts from here.")
        String lastAdvanceTime) {

    /** A report without phase and stall clock (tests, and status written before they existed). */
    public TrainingProgress(
            Long step,
            Long totalSteps,
            Double loss,
            Double learningRate,
            Double tokensPerSecond,
            Long etaSeconds,
            String updateTime) {
        this(step, totalSteps, loss, learningRate, tokensPerSecond, etaSeconds, updateTime, null, null);
    }
}

package dev.longlora.operator.status;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.operator.api.CheckpointRef;
import dev.longlora.operator.api.TrainingProgress;
import java.util.Optional;

/** Rank 0's progress annotation (docs/contract.md section 6), parsed; a malformed one is ignored. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ProgressReport(
        Long step,
        Long totalSteps,
        Double loss,
        Double learningRate,
        Double tokensPerSecond,
        Long etaSeconds,
        String updateTime,
        CheckpointRef lastCheckpoint) {

    private static final ObjectMapper MAPPER =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public static Optional<ProgressReport> parse(String json) {
        if (json == null || json.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(MAPPER.readValue(json, ProgressReport.class));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    public TrainingProgress progress() {
        return new TrainingProgress(step, totalSteps, loss, learningRate, tokensPerSecond, etaSeconds, updateTime);
    }
}

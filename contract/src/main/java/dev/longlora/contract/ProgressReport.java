package dev.longlora.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Rank 0's progress, the JSON of its pod's {@link Annotations#PROGRESS} annotation (docs/contract.md section 6): the
 * trainer writes it, the operator folds it into status.progress and status.lastCheckpoint. Times are RFC 3339 in
 * whole seconds, like Kubernetes' own.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProgressReport(
        Long step,
        Long totalSteps,
        Double loss,
        Double learningRate,
        Double tokensPerSecond,
        Long etaSeconds,
        String updateTime,
        LastCheckpoint lastCheckpoint,
        ProgressPhase phase) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            // a phase from a newer trainer reads as unknown (null), not as a broken report
            .configure(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL, true);

    /** The newest complete checkpoint. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record LastCheckpoint(Long step, String path, String time) {
        public static LastCheckpoint of(long step, String path, Instant time) {
            return new LastCheckpoint(step, path, seconds(time));
        }
    }

    /** A report at {@code now}; {@code etaSeconds} below 0 means not known yet and is left out. */
    public static ProgressReport of(
            long step,
            long totalSteps,
            double loss,
            double learningRate,
            double tokensPerSecond,
            long etaSeconds,
            ProgressPhase phase,
            Instant now,
            LastCheckpoint lastCheckpoint) {
        return new ProgressReport(
                step,
                totalSteps,
                loss,
                learningRate,
                tokensPerSecond,
                etaSeconds >= 0 ? etaSeconds : null,
                seconds(now),
                lastCheckpoint,
                phase);
    }

    /** The same report in another phase, at {@code now}. */
    public ProgressReport at(ProgressPhase newPhase, Instant now) {
        return new ProgressReport(
                step,
                totalSteps,
                loss,
                learningRate,
                tokensPerSecond,
                etaSeconds,
                seconds(now),
                lastCheckpoint,
                newPhase);
    }

    /** The same report with a newer checkpoint. */
    public ProgressReport withCheckpoint(LastCheckpoint checkpoint) {
        return new ProgressReport(
                step, totalSteps, loss, learningRate, tokensPerSecond, etaSeconds, updateTime, checkpoint, phase);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a progress report", e);
        }
    }

    /** The annotation's report; empty when absent or malformed (a bad annotation never breaks reconciliation). */
    public static Optional<ProgressReport> parse(String json) {
        if (json == null || json.isBlank()) return Optional.empty();
        try {
            return Optional.ofNullable(JSON.readValue(json, ProgressReport.class));
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    private static String seconds(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}

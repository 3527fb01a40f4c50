package dev.longlora.contract;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What rank 0 is doing (docs/contract.md section 6), so a long quiet stretch (loading a 70B model, a merge) reads as
 * work rather than a hang. Lower-case in JSON.
 */
public enum ProgressPhase {
    LOADING,
    TRAINING,
    CHECKPOINTING,
    EVALUATING,
    MERGING,
    DONE;

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }
}

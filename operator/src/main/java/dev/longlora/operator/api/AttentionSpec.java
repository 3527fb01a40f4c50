package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Attention during training: S2-Attn (LongLoRA's shifted sparse attention) or full attention. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AttentionSpec(
        @Default("s2") @JsonPropertyDescription("s2: shifted sparse attention in groups; full: dense attention.")
        Pattern pattern,

        @Default("4")
        @Min(1)
        @Max(1024)
        @JsonPropertyDescription(
                "Number of S2 groups; group size = targetLength / groups (LongLoRA's group ratio is 1/groups).")
        Integer groups) {

    /** Attention patterns. */
    public enum Pattern {
        @JsonProperty("s2")
        S2,
        @JsonProperty("full")
        FULL
    }
}

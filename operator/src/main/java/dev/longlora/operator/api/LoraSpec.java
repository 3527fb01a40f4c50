package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** The LoRA adapter; LongLoRA also trains the embeddings and the norms (LoRA+). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoraSpec(
        @Default("8") @Min(1) @Max(1024) @JsonPropertyDescription("LoRA rank r.")
        Integer rank,

        @Default("16") @Min(0) @JsonPropertyDescription("LoRA alpha; the update is scaled by alpha / rank.")
        Double alpha,

        @Default("0.0") @Min(0) @Max(1) @JsonPropertyDescription("Dropout on the LoRA input.")
        Double dropout,

        @Size(min = 1, max = 16)
        @JsonPropertyDescription("Projections that get adapters; q_proj, k_proj, v_proj, o_proj when unset.")
        List<Target> targetModules,

        @Default("true") @JsonPropertyDescription("Train the token embeddings (LongLoRA's LoRA+).")
        Boolean trainEmbeddings,

        @Default("true") @JsonPropertyDescription("Train the normalisation layers (LongLoRA's LoRA+).")
        Boolean trainNorms) {

    /** The LLaMA linear layers the trainer can put adapters on. */
    public enum Target {
        @JsonProperty("q_proj")
        Q_PROJ,
        @JsonProperty("k_proj")
        K_PROJ,
        @JsonProperty("v_proj")
        V_PROJ,
        @JsonProperty("o_proj")
        O_PROJ,
        @JsonProperty("gate_proj")
        GATE_PROJ,
        @JsonProperty("up_proj")
        UP_PROJ,
        @JsonProperty("down_proj")
        DOWN_PROJ
    }
}

package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** What the finished job produced and how good it is: rank 0's results report (docs/contract.md section 8). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobResults(
        @JsonPropertyDescription("The PEFT adapter, inside the pods' checkpoint volume.")
        String adapterPath,

        @JsonPropertyDescription("The merged HF model (spec.output.merge), inside the checkpoint volume.")
        String mergedPath,

        @JsonPropertyDescription("Perplexity per evaluated context length (LongLoRA's protocol, held-out text).")
        List<Perplexity> perplexity,

        @JsonPropertyDescription("Passkey-retrieval accuracy (0..1) per length.")
        List<Passkey> passkey,

        @JsonPropertyDescription("The perplexity at spec.context.targetLength (the PPL column).")
        Double targetPerplexity,

        @JsonPropertyDescription("When the trainer wrote the report.")
        String time) {

    public record Perplexity(Integer length, Double value) {}

    public record Passkey(Integer length, Double accuracy) {}
}

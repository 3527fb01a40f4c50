package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** What the job publishes besides the PEFT adapter (docs/contract.md section 4, "output"). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OutputSpec(
        @Default("false")
        @JsonPropertyDescription(
                "true: after training, rank 0 folds the adapter into the base model and publishes a full HF model in /checkpoints/output/merged (config.json with linear rope_scaling and max_position_embeddings = the target length; bf16 unless training.precision is fp32).")
        Boolean merge) {}

package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The base model: a path inside the pod (mounted through spec.podTemplate) or {@code builtin:<name>}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelSpec(
        @Required
        @Size(min = 1, max = 1024)
        @JsonPropertyDescription(
                "Model directory inside the pod (HF layout: config.json + safetensors), or builtin:tiny.")
        String path,

        @Size(max = 256) @JsonPropertyDescription("Informational model name, e.g. meta-llama/Llama-2-7b-hf.")
        String name,

        @Default("llama") @JsonPropertyDescription("Model architecture; v1alpha1 trains the LLaMA family.")
        Architecture architecture) {

    /** Architectures the trainer implements. */
    public enum Architecture {
        @JsonProperty("llama")
        LLAMA
    }
}

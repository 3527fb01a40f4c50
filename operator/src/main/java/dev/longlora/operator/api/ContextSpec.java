package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** Context extension by linear position interpolation. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ContextSpec(
        @Default("4096")
        @Min(2)
        @Max(1048576)
        @JsonPropertyDescription("Context length the base model was trained with.")
        Integer originalLength,

        @Required
        @Min(4)
        @Max(1048576)
        @JsonPropertyDescription("Context length to train for; must exceed originalLength.")
        Integer targetLength,

        @Min(1)
        @Max(1024)
        @JsonPropertyDescription("Position interpolation factor; ceil(targetLength / originalLength) when unset.")
        Double ropeFactor) {}

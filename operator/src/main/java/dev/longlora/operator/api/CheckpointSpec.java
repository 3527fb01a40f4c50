package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/**
 * The checkpoint volume, mounted at /checkpoints in every pod: an existing claim, or one the operator creates.
 * It outlives the job unless deleteWithJob, so a trained adapter survives TTL and deletion.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointSpec(
        @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
        @JsonPropertyDescription(
                "Existing PersistentVolumeClaim to use; the operator creates '<job>-checkpoints' when unset.")
        String claimName,

        @Default("{}") @JsonPropertyDescription("The claim the operator creates when claimName is unset.")
        CheckpointStorage storage,

        @Default("100") @Min(1) @JsonPropertyDescription("Save a checkpoint every this many optimiser steps.")
        Integer everySteps,

        @Default("3")
        @Min(1)
        @Max(1000)
        @JsonPropertyDescription("Complete checkpoints to keep; older ones are removed.")
        Integer keep,

        @Default("false")
        @JsonPropertyDescription(
                "true: the created claim is owned by the job and deleted with it; false keeps outputs.")
        Boolean deleteWithJob) {}

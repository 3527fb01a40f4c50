package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * What rank 0 measures after training (docs/contract.md section 4, "evaluation"), reported into status.results:
 * perplexity per length with LongLoRA's protocol and passkey retrieval at the target length, on text training never
 * saw. Sized small by default, so it adds seconds to the tiny example and minutes to a 7B job.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
        value = "!(has(self.path) && has(self.heldOutFraction))",
        message = "spec.evaluation.path and spec.evaluation.heldOutFraction are both set: evaluate on a file of its own"
                + " (path) or on a held-out part of the training data (heldOutFraction), not both",
        reason = "FieldValueInvalid",
        fieldPath = ".heldOutFraction")
// class-level rules: on a record component the generator would emit each rule twice (field and accessor)
@ValidationRule(
        value = "!has(self.lengths) || self.lengths.all(l, l >= 2 && l <= 1048576)",
        message = "spec.evaluation.lengths: every length must be 2..1048576 tokens",
        reason = "FieldValueInvalid",
        fieldPath = ".lengths")
@ValidationRule(
        value = "!has(self.heldOutFraction) || (self.heldOutFraction > 0.0 && self.heldOutFraction <= 0.5)",
        message = "spec.evaluation.heldOutFraction must be in (0, 0.5]; to skip evaluation set spec.evaluation.enabled:"
                + " false",
        reason = "FieldValueInvalid",
        fieldPath = ".heldOutFraction")
public record EvaluationSpec(
        @Default("true") @JsonPropertyDescription("Evaluate after training; false skips it (and holds nothing out).")
        Boolean enabled,

        @Size(max = 8)
        @JsonPropertyDescription(
                "Context lengths to measure perplexity at (at most 8); spec.context.originalLength and targetLength when unset.")
        List<Integer> lengths,

        @Size(min = 1, max = 1024)
        @JsonPropertyDescription(
                "Evaluation text inside the pod, read like spec.dataset (same format and token width); without it, the held-out tail of the training data.")
        String path,

        @JsonPropertyDescription(
                "Share of the training data, taken from its end, held out for evaluation and never trained on; 0.01 when path is unset.")
        Double heldOutFraction,

        @Default("8")
        @Min(1)
        @Max(10000)
        @JsonPropertyDescription("Perplexity windows per length (LongLoRA's windows, one every 256 tokens).")
        Integer maxWindows,

        @Default("5")
        @Min(0)
        @Max(1000)
        @JsonPropertyDescription("Passkey-retrieval prompts at the target length; 0 for none.")
        Integer passkeyTrials) {}

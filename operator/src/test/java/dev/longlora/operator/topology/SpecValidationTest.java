package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.AttentionSpec;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.EvaluationSpec;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecValidationTest {
    static LongLoRAJobSpec spec(int original, int target, int groups, int nodes) {
        return new LongLoRAJobSpec(
                new ModelSpec("builtin:tiny", null, null),
                new DatasetSpec("builtin:synthetic", null, null),
                new ContextSpec(original, target, null),
                new AttentionSpec(null, groups),
                null,
                null,
                new DistributedSpec(nodes, 0, 0, null, null, null, null),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    static List<String> problems(String name, LongLoRAJobSpec spec) {
        return SpecValidation.problems(TestJobs.job(name, spec));
    }

    @Test
    void aValidJobHasNoProblems() {
        assertEquals(List.of(), problems("ok", spec(4096, 32768, 4, 1)));
    }

    @Test
    void eachBrokenRuleNamesItsField() {
        assertTrue(problems("g", spec(4096, 32768, 3, 1))
                .getFirst()
                .contains("does not split into spec.attention.groups=3"));
        assertTrue(problems("g", spec(64, 130, 2, 1)).getFirst().contains("groups of even size"));
        assertTrue(
                problems("g", spec(8192, 4096, 4, 1)).getFirst().contains("greater than spec.context.originalLength"));
        assertTrue(problems("g", spec(4096, 32768, 4, 2)).getFirst().contains("ReadWriteMany"));
        assertTrue(problems("a".repeat(57), spec(4096, 32768, 4, 1)).getFirst().contains("too long"));
        assertEquals(List.of(), problems("a".repeat(56), spec(4096, 32768, 4, 1)));
        assertTrue(problems("Bad_Name", spec(4096, 32768, 4, 1)).getFirst().contains("DNS-1035"));
    }

    /** The contract's evaluation rules, in the spec's words: an old CRD or a job built in code is caught too. */
    @Test
    void badEvaluationSettingsNameTheirSpecFields() {
        LongLoRAJobSpec both = TestJobs.withFields(
                spec(4096, 32768, 4, 1),
                java.util.Map.of("evaluation", new EvaluationSpec(null, null, "/data/test.bin", 0.1, null, null)));
        assertEquals(
                List.of("spec.evaluation.path and spec.evaluation.heldOutFraction are both set: evaluate on a file of"
                        + " its own (path) or on a held-out part of the training data (heldOutFraction), not both"),
                problems("e", both));
        LongLoRAJobSpec tooShort = TestJobs.withFields(
                spec(4096, 32768, 4, 1),
                java.util.Map.of("evaluation", new EvaluationSpec(null, List.of(4096, 1), null, null, 0, null)));
        List<String> p = problems("e", tooShort);
        assertTrue(p.get(0).startsWith("spec.evaluation.lengths holds 1"), p.toString());
        assertTrue(p.get(1).startsWith("spec.evaluation.maxWindows=0 must be 1..10000"), p.toString());
    }
}

package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.AttentionSpec;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
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
}

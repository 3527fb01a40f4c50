package dev.longlora.trainer.cli;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.model.AttentionSpec;
import picocli.CommandLine.Option;

/** {@code --attn full|s2|short} with LongLoRA's {@code --group-ratio R} or {@code --groups N} (contract section 1). */
final class AttentionOptions {
    @Option(
            names = "--attn",
            paramLabel = "full|s2|short",
            description = "attention: full causal, s2 (shifted sparse, LongLoRA) or short (groups without the shift)")
    String pattern;

    @Option(
            names = "--group-ratio",
            paramLabel = "R",
            description = "S2 group size as a fraction of the sequence (LongLoRA's name; 0.25 = 4 groups)")
    Double groupRatio;

    @Option(names = "--groups", paramLabel = "N", description = "number of S2 groups per sequence (default 4)")
    Integer groups;

    AttentionSpec resolve(String defaultPattern) {
        if (groupRatio != null && groups != null) {
            throw new ConfigException("give either --group-ratio or --groups, not both");
        }
        int n = groups != null
                ? groups
                : groupRatio != null ? AttentionSpec.s2FromRatio(groupRatio).groups() : AttentionSpec.DEFAULT_GROUPS;
        String p = pattern != null ? pattern : defaultPattern;
        if (p == null) throw new ConfigException("--attn is required: full or s2");
        return AttentionSpec.parse(p, n);
    }
}

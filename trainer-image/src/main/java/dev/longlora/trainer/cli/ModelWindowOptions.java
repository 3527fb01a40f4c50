package dev.longlora.trainer.cli;

import dev.longlora.trainer.model.AttentionSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A model run over windows of a token file, as {@code eval} and {@code grad} take it: the model
 * ({@link ModelOptions}), the tokens ({@link TokenOptions}), the window length {@code --seq-len N} and the attention
 * over it ({@link AttentionOptions}). Declared once so both commands keep the same names, help and checks.
 */
final class ModelWindowOptions {
    @Mixin
    ModelOptions model;

    @Mixin
    TokenOptions tokens;

    @Option(names = "--seq-len", required = true, paramLabel = "N", description = "window length in tokens")
    int seqLen;

    @Mixin
    AttentionOptions attention;

    /** The attention of {@code --attn} (or {@code defaultPattern}), checked against {@code --seq-len}. */
    AttentionSpec attentionForWindow(String defaultPattern) {
        AttentionSpec spec = attention.resolve(defaultPattern);
        spec.validate(seqLen);
        return spec;
    }
}

package dev.longlora.trainer.data;

import dev.longlora.trainer.tokenizer.ByteTokenizer;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.nio.file.Path;

/**
 * A plain-text file through a tokenizer (the byte-level one for the tiny models): documents are separated by
 * blank lines, each one wrapped in BOS/EOS and joined, as LongLoRA joins documents with EOS before cutting windows.
 * Tokenized streaming into a temporary token file ({@link TokenSources#tokenized}), so large files work.
 */
public final class TextCorpus {
    private TextCorpus() {}

    public static TokenSource open(Path file) {
        return open(file, ByteTokenizer.INSTANCE);
    }

    public static TokenSource open(Path file, Tokenizer tokenizer) {
        return TokenSources.tokenized(file, CorpusFormat.TEXT, tokenizer);
    }
}

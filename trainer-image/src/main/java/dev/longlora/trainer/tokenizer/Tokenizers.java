package dev.longlora.trainer.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Picks the tokenizer for a model or a {@code --tokenizer} argument: {@code tokenizer.json} when there is one, the
 * byte-level tokenizer for the built-in tiny models ({@code builtin:*}, {@code builtin:byte}, or a model directory
 * without tokenizer.json whose vocabulary is the byte tokenizer's 258 ids).
 */
public final class Tokenizers {
    public static final String BYTE = "builtin:byte";

    private Tokenizers() {}

    /** For {@code --tokenizer FILE|DIR|builtin:byte}. */
    public static Tokenizer open(String spec) {
        if (spec.equals(BYTE)) return ByteTokenizer.INSTANCE;
        return HfTokenizer.load(Path.of(spec));
    }

    /** For the model a job trains: its tokenizer.json, else the byte tokenizer if the model is a byte-level one. */
    public static Tokenizer forModel(String modelPath) {
        if (modelPath.startsWith("builtin:")) return ByteTokenizer.INSTANCE;
        Path dir = Path.of(modelPath);
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return HfTokenizer.load(dir);
        if (vocabSize(dir.resolve("config.json")) == ByteTokenizer.VOCAB_SIZE) return ByteTokenizer.INSTANCE;
        throw new FormatException(
                dir,
                "has no tokenizer.json, needed to tokenize text data: copy the model's "
                        + "tokenizer.json there, or pre-tokenize with `longlora tokenize` and use data.format bin");
    }

    private static int vocabSize(Path configJson) {
        if (!Files.isRegularFile(configJson)) return -1;
        try {
            return new ObjectMapper()
                    .readTree(configJson.toFile())
                    .path("vocab_size")
                    .asInt(-1);
        } catch (IOException e) {
            return -1;
        }
    }
}

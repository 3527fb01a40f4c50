package dev.longlora.trainer.eval;

import dev.longlora.trainer.data.ByteTokenizer;
import dev.longlora.trainer.data.Tokenizer;
import dev.longlora.trainer.io.BuiltinModels;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.model.LlamaConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/** The tokenizer that goes with a model: its {@code tokenizer.json}, or the byte tokenizer of the tiny models. */
public final class ModelTokenizers {
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private ModelTokenizers() {
    }

    public static Tokenizer forModel(String modelPath, LlamaConfig config) {
        Path json = BuiltinModels.isBuiltin(modelPath) ? null : Path.of(modelPath).resolve(TOKENIZER_FILE);
        if (json != null && Files.isRegularFile(json)) {
            return HfTokenizerBridge.load(json);
        }
        if (config.vocabSize() == ByteTokenizer.VOCAB_SIZE) return ByteTokenizer.INSTANCE;
        throw new FormatException(json != null ? json : Path.of(modelPath), "no " + TOKENIZER_FILE + " next to the model, and its "
                + "vocabulary of " + config.vocabSize() + " is not the byte-level one (" + ByteTokenizer.VOCAB_SIZE
                + "): copy the model's tokenizer.json into the model directory");
    }
}

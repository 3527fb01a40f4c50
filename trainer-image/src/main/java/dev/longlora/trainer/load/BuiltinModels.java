package dev.longlora.trainer.load;

import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.tokenizer.ByteTokenizer;

/**
 * Models embedded in the trainer, so the demo, the tests and a CPU job run with nothing downloaded.
 * {@code builtin:tiny} is a 2-layer LLaMA with GQA over the byte-level vocabulary, randomly initialised from a
 * fixed seed (its weights are the same in every run). It lives beside {@link ModelLoader}, which resolves
 * {@code builtin:} model paths: in io or model it would tie that package to the tokenizer, a package cycle.
 */
public final class BuiltinModels {
    public static final String TINY = "builtin:tiny";
    /** Seed of the built-in weights: fixed, so {@code builtin:tiny} names one model. */
    public static final long WEIGHT_SEED = 20230921L;

    private BuiltinModels() {}

    public static boolean isBuiltin(String path) {
        return path != null && path.startsWith("builtin:");
    }

    public static LlamaConfig config(String name) {
        if (name.equals(TINY)) {
            return new LlamaConfig(ByteTokenizer.VOCAB_SIZE, 64, 128, 2, 4, 2, 1e-5, 10000.0, 256, 1.0, false);
        }
        throw new IllegalArgumentException("unknown built-in model '" + name + "': use " + TINY);
    }
}

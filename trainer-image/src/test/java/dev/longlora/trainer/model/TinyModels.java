package dev.longlora.trainer.model;

import dev.longlora.trainer.parameter.Parameter;
import java.util.List;
import java.util.SplittableRandom;

/** Small random models and data for numerical tests. */
public final class TinyModels {
    private TinyModels() {}

    /** 2 layers, hidden 16, 4 query heads over 2 KV heads (GQA), vocab 23, PI factor as given. */
    public static LlamaConfig gqaConfig(double ropeFactor) {
        return new LlamaConfig(23, 16, 24, 2, 4, 2, 1e-5, 10000.0, 64, ropeFactor, false);
    }

    /** LoRA rank 4 on all seven linear layers with trainable embedding and norms. */
    public static LoraConfig loraEverywhere(double dropout) {
        return new LoraConfig(
                4,
                8,
                dropout,
                List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                true,
                true,
                false);
    }

    /**
     * Replaces every weight with values of a larger spread (and nonzero LoRA B), so that gradients are far from zero
     * and finite differences are meaningful.
     */
    public static void randomize(LlamaModel model, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Parameter p : model.parameters().all()) {
            float[] v = new float[Math.toIntExact(p.numel())];
            boolean norm = p.name().endsWith("norm.weight");
            double spread = norm ? 0.3 : p.name().contains("embed") ? 1.0 : 0.35;
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm ? 1.0 : 0.0) + spread * rng.nextGaussian());
            }
            model.parameters().setValues(p.name(), v);
        }
    }

    /** Uniform random tokens in [0, vocab). */
    public static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }
}

package dev.longlora.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of the whole model's gradients: for every trainable parameter, the directional derivative
 * along a random direction (central differences of the fp32 loss) must match the analytic gradient's projection.
 */
class ModelGradientCheckTest {

    /** Relative mismatch allowed: fp32 loss differences at steps of 1e-3 carry about 1e-4 of noise. */
    private static final double TOLERANCE = 2e-2;

    @Test
    void s2AttentionWithGqaPiAndLoraEverywhere() {
        check(TinyModels.gqaConfig(2.0), TinyModels.loraEverywhere(0.0), AttentionSpec.s2(4), 16, true);
    }

    @Test
    void fullAttentionFullFineTune() {
        check(TinyModels.gqaConfig(1.0), LoraConfig.fullFineTuning(), AttentionSpec.full(), 12, false);
    }

    @Test
    void shortAttentionWithoutShiftAndTiedEmbeddings() {
        LlamaConfig c = TinyModels.gqaConfig(4.0);
        LlamaConfig tied = new LlamaConfig(
                c.vocabSize(),
                c.hiddenSize(),
                c.intermediateSize(),
                c.numLayers(),
                c.numHeads(),
                c.numKvHeads(),
                c.rmsNormEps(),
                c.ropeTheta(),
                c.maxPositionEmbeddings(),
                4.0,
                true);
        check(tied, LoraConfig.longLora().withRank(2, 3), AttentionSpec.shortNoShift(2), 16, true);
    }

    @Test
    void loraDropoutUsesTheSameMaskInBackward() {
        LlamaConfig config = TinyModels.gqaConfig(1.0);
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(config, TinyModels.loraEverywhere(0.3), be, 5)) {
            TinyModels.randomize(model, 6);
            int[] tokens = TinyModels.tokens(16, config.vocabSize(), 7);
            // Same dropout step for every evaluation: rewind the counter.
            model.setDropoutCounter(0);
            model.zeroGrads();
            model.forwardBackward(tokens, tokens, AttentionSpec.s2(4));
            for (Parameter p : model.parameters().trainable()) {
                directional(model, p, tokens, AttentionSpec.s2(4), 0L, 11);
            }
        }
    }

    private static void check(
            LlamaConfig config, LoraConfig lora, AttentionSpec spec, int tokensLen, boolean checkpointing) {
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(config, lora, be, 1)) {
            model.setGradientCheckpointing(checkpointing);
            TinyModels.randomize(model, 2);
            int[] tokens = TinyModels.tokens(tokensLen, config.vocabSize(), 3);
            int[] labels = tokens.clone();
            labels[3] = LlamaModel.IGNORE_INDEX;
            model.zeroGrads();
            double loss = model.forwardBackward(tokens, labels, spec);
            assertTrue(Double.isFinite(loss) && loss > 0, "loss " + loss);
            assertEquals(loss, model.loss(tokens, labels, spec), 1e-5, "eval loss equals training loss");
            assertTrue(!model.parameters().trainable().isEmpty());
            for (Parameter p : model.parameters().trainable()) {
                directional(model, p, tokens, spec, -1L, 9, labels);
            }
        }
    }

    private static void directional(
            LlamaModel model, Parameter p, int[] tokens, AttentionSpec spec, long dropoutStep, long seed) {
        directional(model, p, tokens, spec, dropoutStep, seed, tokens);
    }

    /** Compares the finite-difference derivative of L along a random +-1 direction u with <grad, u>. */
    private static void directional(
            LlamaModel model,
            Parameter p,
            int[] tokens,
            AttentionSpec spec,
            long dropoutStep,
            long seed,
            int[] labels) {
        ParameterStore store = model.parameters();
        float[] w = store.values(p.name());
        float[] g = store.grads(p.name());
        SplittableRandom rng = new SplittableRandom(seed + p.name().hashCode());
        float[] u = new float[w.length];
        double predicted = 0;
        for (int i = 0; i < u.length; i++) {
            u[i] = rng.nextBoolean() ? 1f : -1f;
            predicted += (double) u[i] * g[i];
        }
        // Central differences at eps and eps/2, Richardson-extrapolated to cancel the eps^2 error term.
        double eps = 2e-3;
        double wide = (lossAt(model, p, w, u, eps, tokens, labels, spec, dropoutStep)
                        - lossAt(model, p, w, u, -eps, tokens, labels, spec, dropoutStep))
                / (2 * eps);
        double narrow = (lossAt(model, p, w, u, eps / 2, tokens, labels, spec, dropoutStep)
                        - lossAt(model, p, w, u, -eps / 2, tokens, labels, spec, dropoutStep))
                / eps;
        store.setValues(p.name(), w);
        double numeric = (4 * narrow - wide) / 3;
        double scale = Math.max(Math.abs(numeric), Math.abs(predicted));
        assertTrue(
                Math.abs(numeric - predicted) <= TOLERANCE * scale + 2e-4,
                p.name() + ": finite difference " + numeric + " vs analytic " + predicted);
    }

    private static double lossAt(
            LlamaModel model,
            Parameter p,
            float[] w,
            float[] u,
            double eps,
            int[] tokens,
            int[] labels,
            AttentionSpec spec,
            long dropoutStep) {
        float[] shifted = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            shifted[i] = (float) (w[i] + eps * u[i]);
        }
        model.parameters().setValues(p.name(), shifted);
        if (dropoutStep < 0) {
            return model.loss(tokens, labels, spec);
        }
        // Dropout is active only in training passes: evaluate through forwardBackward at the same dropout step, on a
        // scratch copy of the gradients (they are restored by the caller reading them before).
        model.setDropoutCounter(dropoutStep);
        return model.forwardBackward(tokens, labels, spec, 0f);
    }
}

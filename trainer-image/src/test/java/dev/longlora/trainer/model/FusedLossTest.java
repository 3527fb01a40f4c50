package dev.longlora.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The model's loss through the fused LM head in small row chunks against one chunk of all rows (the arithmetic of
 * the former full-logits path, which {@code backend.cpu.FusedLmHeadTest} compares op for op): the same loss and
 * gradients, and less memory by about the [T, V] logits.
 */
class FusedLossTest {
    private static final int TOKENS = 96;

    private record Run(double loss, double evalLoss, Map<String, float[]> grads, long peak) {}

    private static Run run(LlamaConfig config, LoraConfig lora, int chunkRows) {
        try (CpuBackend be = new CpuBackend(2, chunkRows);
                LlamaModel model = new LlamaModel(config, lora, be, 3)) {
            TinyModels.randomize(model, 4);
            int[] tokens = TinyModels.tokens(TOKENS, config.vocabSize(), 5);
            int[] labels = tokens.clone();
            for (int t = 0; t < 20; t++) {
                labels[t] = LlamaModel.IGNORE_INDEX; // a masked prompt: whole chunks without a counted row
            }
            long before = be.bytesInUse();
            be.resetPeakBytes();
            double loss = model.forwardBackward(tokens, labels, AttentionSpec.s2(4), 0.5f);
            long peak = be.peakBytes() - before;
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Parameter p : model.parameters().trainable()) {
                grads.put(p.name(), model.parameters().grads(p.name()));
            }
            double evalLoss = model.loss(tokens, labels, AttentionSpec.s2(4));
            return new Run(loss, evalLoss, grads, peak);
        }
    }

    private static void sameLossAndGradients(LlamaConfig config, LoraConfig lora, String headGradient) {
        Run whole = run(config, lora, TOKENS);
        Run chunked = run(config, lora, 5);
        assertEquals(whole.loss, chunked.loss, 0.0, "training loss");
        assertEquals(whole.evalLoss, chunked.evalLoss, 0.0, "eval loss");
        assertEquals(whole.grads.keySet(), chunked.grads.keySet());
        assertTrue(whole.grads.containsKey(headGradient), headGradient + " is trained");
        for (String name : whole.grads.keySet()) {
            float[] want = whole.grads.get(name);
            float[] got = chunked.grads.get(name);
            if (name.equals(headGradient)) {
                // The LM head's gradient sums over rows chunk by chunk: fp32 rounding, nothing more.
                double diff = 0;
                double norm = 0;
                for (int i = 0; i < want.length; i++) {
                    diff += ((double) want[i] - got[i]) * ((double) want[i] - got[i]);
                    norm += (double) want[i] * want[i];
                }
                assertTrue(Math.sqrt(diff / norm) < 1e-6, name + ": relative L2 " + Math.sqrt(diff / norm));
            } else {
                // Every other gradient flows from dHidden, which has the bits of the full-logits path.
                assertArrayEquals(want, got, 0f, name);
            }
        }
        long logits = 4L * TOKENS * config.vocabSize();
        assertTrue(
                whole.peak - chunked.peak > logits * 0.8,
                "peak " + chunked.peak + " with 5-row chunks vs " + whole.peak + " with one chunk of " + TOKENS
                        + " rows; the logits are " + logits + " bytes");
    }

    @Test
    void fullFineTuningTrainsTheLmHead() {
        sameLossAndGradients(
                new LlamaConfig(700, 32, 48, 2, 4, 2, 1e-5, 10000.0, 128, 2.0, false),
                LoraConfig.fullFineTuning(),
                LlamaTensors.LM_HEAD);
    }

    @Test
    void tiedEmbeddingsGetTheLmHeadGradientToo() {
        sameLossAndGradients(
                new LlamaConfig(700, 32, 48, 2, 4, 4, 1e-5, 10000.0, 128, 1.0, true),
                LoraConfig.longLora(),
                LlamaTensors.EMBEDDING);
    }
}

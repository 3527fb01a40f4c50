package dev.longlora.trainer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.backend.cuda.CudaAvailability;
import dev.longlora.trainer.backend.cuda.CudaBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.KvCache;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.TinyModels;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The model's KV-cached decoding ({@link LlamaModel#decode}, {@link GreedyDecoding}) against its full recomputation
 * of every prefix, on the CPU backend (bit for bit) and on the CUDA backend (skipped, with the reason, on machines
 * without a CUDA driver and GPU).
 */
class KvCachedDecodingTest {

    @Test
    void cachedGreedyDecodingEqualsArgmaxOfFullRecomputationAtEveryStep() {
        try (CpuBackend backend = new CpuBackend(2)) {
            greedyEqualsFullRecomputation(backend);
        }
    }

    @Test
    void cachedGreedyDecodingOnTheGpuEqualsArgmaxOfFullRecomputationAtEveryStep() {
        var reason = CudaAvailability.unavailableReason();
        assumeTrue(reason.isEmpty(), () -> "CUDA decoding test skipped: " + reason.orElse(""));
        try (CudaBackend backend = CudaBackend.open(0)) {
            greedyEqualsFullRecomputation(backend);
        }
    }

    @Test
    void cachedLogitsAreTheFullForwardsBitForBitAndChunkedPrefillEqualsTokenByToken() {
        try (CpuBackend backend = new CpuBackend(2)) {
            float[][][] got = cachedAndFullLogits(backend);
            for (int i = 0; i < got[0].length; i++) {
                assertArrayEquals(got[0][i], got[1][i], "position " + i + " of " + got[0].length);
            }
        }
    }

    @Test
    void cachedLogitsOnTheGpuMatchItsFullForward() {
        var reason = CudaAvailability.unavailableReason();
        assumeTrue(reason.isEmpty(), () -> "CUDA decoding test skipped: " + reason.orElse(""));
        try (CudaBackend backend = CudaBackend.open(0)) {
            float[][][] got = cachedAndFullLogits(backend);
            for (int i = 0; i < got[0].length; i++) {
                assertClose(got[0][i], got[1][i]);
            }
        }
    }

    @Test
    void decodingStopsAfterTheStopTokenAndRestartsFromAnEmptyCache() {
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model = new LlamaModel(TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), backend, 1);
                KvCache cache = model.newKvCache(40)) {
            TinyModels.randomize(model, 8);
            int[] prompt = TinyModels.tokens(9, 23, 2);
            int[] free = GreedyDecoding.generate(model, cache, prompt, 30, -1);
            int stop = free[free.length / 2];
            int first = 0;
            while (free[first] != stop) first++;
            int[] stopped = GreedyDecoding.generate(model, cache, prompt, 30, stop);
            assertArrayEquals(
                    Arrays.copyOf(free, first + 1),
                    stopped,
                    "the same tokens up to and including the first stop token");
        }
    }

    @Test
    void overflowingTheCacheOrChangingThePiFactorMidwayIsRefused() {
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model = new LlamaModel(TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), backend, 1);
                KvCache cache = model.newKvCache(4)) {
            model.decode(cache, 1, 2, 3);
            IllegalArgumentException full =
                    assertThrows(IllegalArgumentException.class, () -> model.decode(cache, 4, 5));
            assertTrue(full.getMessage().contains("holds 4 tokens"), full.getMessage());
            model.setRopeScalingFactor(2.0);
            IllegalStateException factor = assertThrows(IllegalStateException.class, () -> model.decode(cache, 4));
            assertTrue(factor.getMessage().contains("PI factor"), factor.getMessage());
            cache.clear();
            model.decode(cache, 4);
        }
    }

    /** Greedy tokens of a random GQA model with PI and nonzero LoRA everywhere against argmax of the full forward. */
    private static void greedyEqualsFullRecomputation(Backend backend) {
        // GQA, PI factor 2, LoRA with nonzero B on every linear layer, trained embedding/norms: every path counts.
        try (LlamaModel model = new LlamaModel(TinyModels.gqaConfig(2.0), TinyModels.loraEverywhere(0), backend, 1)) {
            TinyModels.randomize(model, 42);
            int[] prompt = TinyModels.tokens(21, 23, 7);
            int newTokens = 40;
            int[] generated;
            try (KvCache cache = model.newKvCache(prompt.length + newTokens - 1)) {
                generated = GreedyDecoding.generate(model, cache, prompt, newTokens, -1);
                assertEquals(newTokens, generated.length);
                assertEquals(
                        prompt.length + newTokens - 1, cache.length(), "the last generated token is never fed back");
            }
            int[] seq = Arrays.copyOf(prompt, prompt.length + newTokens);
            System.arraycopy(generated, 0, seq, prompt.length, newTokens);
            int distinct = (int) Arrays.stream(generated).distinct().count();
            assertTrue(distinct > 1, "a degenerate continuation would not test much: " + Arrays.toString(generated));
            for (int step = 0; step < newTokens; step++) {
                int[] prefix = Arrays.copyOf(seq, prompt.length + step);
                int[] argmax = model.argmaxNextTokens(prefix, AttentionSpec.full());
                assertEquals(
                        argmax[prefix.length - 1],
                        generated[step],
                        "step " + step + " differs from full recomputation");
            }
        }
    }

    /**
     * On an MQA model with a tied head and PI factor 4: {full forward, chunked prefill, token by token} logits at
     * positions 0, 10 and 36 of 37 tokens, as [kind][position].
     */
    private static float[][][] cachedAndFullLogits(Backend backend) {
        LlamaConfig tied = new LlamaConfig(31, 32, 40, 3, 4, 1, 1e-6, 500000.0, 64, 4.0, true);
        try (LlamaModel model = new LlamaModel(tied, TinyModels.loraEverywhere(0), backend, 3);
                KvCache chunked = model.newKvCache(37);
                KvCache single = model.newKvCache(37)) {
            TinyModels.randomize(model, 5);
            int[] tokens = TinyModels.tokens(37, 31, 9);
            float[][] full = model.logitsAt(tokens, AttentionSpec.full(), new int[] {0, 10, 36, 36});
            model.decode(chunked, Arrays.copyOf(tokens, 11));
            float[] last = model.decode(chunked, Arrays.copyOfRange(tokens, 11, tokens.length));
            float[] first = model.decode(single, tokens[0]);
            float[] at10 = null;
            float[] stepwise = first;
            for (int t = 1; t < tokens.length; t++) {
                stepwise = model.decode(single, tokens[t]);
                if (t == 10) at10 = stepwise;
            }
            return new float[][][] {full, {first, at10, last, stepwise}};
        }
    }

    private static void assertClose(float[] want, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - got[i]) * (double) (want[i] - got[i]);
            den += want[i] * (double) want[i];
        }
        assertTrue(Math.sqrt(num / den) < 1e-5, "relative L2 error " + Math.sqrt(num / den));
    }
}

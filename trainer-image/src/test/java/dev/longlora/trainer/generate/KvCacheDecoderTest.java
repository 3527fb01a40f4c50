package dev.longlora.trainer.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.TinyModels;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** KV-cached greedy decoding against the model's full recomputation of every prefix. */
class KvCacheDecoderTest {

    @Test
    void cachedGreedyDecodingEqualsArgmaxOfFullRecomputationAtEveryStep() {
        // GQA, PI factor 2, LoRA with nonzero B on every linear layer, trained embedding/norms: every path counts.
        try (CpuBackend backend = new CpuBackend(2);
                LlamaModel model =
                        new LlamaModel(TinyModels.gqaConfig(2.0), TinyModels.loraEverywhere(0), backend, 1)) {
            TinyModels.randomize(model, 42);
            int[] prompt = TinyModels.tokens(21, 23, 7);
            int newTokens = 40;
            KvCacheDecoder decoder = new KvCacheDecoder(model, prompt.length + newTokens);
            int[] generated = GreedyDecoding.generate(decoder, prompt, newTokens, -1);
            assertEquals(newTokens, generated.length);
            assertEquals(
                    prompt.length + newTokens - 1, decoder.position(), "the last generated token is never fed back");

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

    @Test
    void cachedLogitsMatchFullForwardLogitsAndChunkedPrefillEqualsTokenByToken() {
        LlamaConfig tied = new LlamaConfig(31, 32, 40, 3, 4, 1, 1e-6, 500000.0, 64, 4.0, true); // MQA, tied head, PI 4
        try (CpuBackend backend = new CpuBackend(2);
                LlamaModel model = new LlamaModel(tied, TinyModels.loraEverywhere(0), backend, 3)) {
            TinyModels.randomize(model, 5);
            int[] tokens = TinyModels.tokens(37, 31, 9);
            int[] positions = {0, 10, 36};
            float[][] full = model.logitsAt(tokens, AttentionSpec.full(), positions);

            KvCacheDecoder chunked = new KvCacheDecoder(model, tokens.length);
            chunked.append(Arrays.copyOf(tokens, 11));
            float[] last = chunked.append(Arrays.copyOfRange(tokens, 11, tokens.length));
            KvCacheDecoder single = new KvCacheDecoder(model, tokens.length);
            float[] first = single.append(tokens[0]);
            float[] at10 = null;
            float[] stepwise = first;
            for (int t = 1; t < tokens.length; t++) {
                stepwise = single.append(tokens[t]);
                if (t == 10) at10 = stepwise;
            }
            assertClose(full[0], first);
            assertClose(full[1], at10);
            assertClose(full[2], last);
            assertClose(full[2], stepwise);
        }
    }

    @Test
    void decodingStopsAfterTheStopTokenAndRestartsFromAnEmptyCache() {
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model =
                        new LlamaModel(TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), backend, 1)) {
            TinyModels.randomize(model, 8);
            int[] prompt = TinyModels.tokens(9, 23, 2);
            KvCacheDecoder d = new KvCacheDecoder(model, 40);
            int[] free = GreedyDecoding.generate(d, prompt, 30, -1);
            int stop = free[free.length / 2];
            int first = 0;
            while (free[first] != stop) first++;
            int[] stopped = GreedyDecoding.generate(d, prompt, 30, stop);
            assertArrayEquals(
                    Arrays.copyOf(free, first + 1),
                    stopped,
                    "the same tokens up to and including the first stop token");
        }
    }

    @Test
    void overflowingTheCacheIsRefused() {
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model =
                        new LlamaModel(TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), backend, 1)) {
            KvCacheDecoder d = new KvCacheDecoder(model, 4);
            d.append(1, 2, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.append(4, 5));
            assertTrue(e.getMessage().contains("holds 4 tokens"), e.getMessage());
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

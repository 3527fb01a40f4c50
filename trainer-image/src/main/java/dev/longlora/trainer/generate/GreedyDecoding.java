package dev.longlora.trainer.generate;

import dev.longlora.trainer.model.KvCache;
import dev.longlora.trainer.model.LlamaModel;
import java.util.Arrays;

/**
 * Greedy decoding with the model's KV-cached path ({@link LlamaModel#decode}): prefill the prompt once, then take the
 * argmax token and feed it back, one token per step, on whatever backend holds the model.
 */
public final class GreedyDecoding {
    private GreedyDecoding() {}

    /**
     * Up to {@code maxNewTokens} tokens continuing {@code prompt}; stops early after {@code stopToken} (pass -1 for
     * none). The cache is cleared first and must hold prompt + maxNewTokens - 1 tokens (the last token generated is
     * never fed back).
     */
    public static int[] generate(LlamaModel model, KvCache cache, int[] prompt, int maxNewTokens, int stopToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        cache.clear();
        int[] out = new int[maxNewTokens];
        int produced = 0;
        float[] logits = model.decode(cache, prompt);
        while (produced < maxNewTokens) {
            int next = argmax(logits);
            out[produced++] = next;
            if (next == stopToken || produced == maxNewTokens) break;
            logits = model.decode(cache, next);
        }
        return Arrays.copyOf(out, produced);
    }

    /** Index of the largest logit (the first on ties, like the backend's argmax). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}

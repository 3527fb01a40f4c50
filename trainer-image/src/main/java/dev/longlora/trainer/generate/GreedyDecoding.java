package dev.longlora.trainer.generate;

/** Greedy decoding: prefill the prompt once, then take the argmax token and feed it back, one token per step. */
public final class GreedyDecoding {
    private GreedyDecoding() {}

    /**
     * Up to {@code maxNewTokens} tokens continuing {@code prompt}; stops early after {@code stopToken} (pass -1 for
     * none). The decoder is reset first and must hold prompt + maxNewTokens tokens.
     */
    public static int[] generate(KvCacheDecoder decoder, int[] prompt, int maxNewTokens, int stopToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        decoder.reset();
        int[] out = new int[maxNewTokens];
        int produced = 0;
        float[] logits = decoder.append(prompt);
        while (produced < maxNewTokens) {
            int next = argmax(logits);
            out[produced++] = next;
            if (next == stopToken || produced == maxNewTokens) break;
            logits = decoder.append(next);
        }
        return java.util.Arrays.copyOf(out, produced);
    }

    /** Index of the largest logit (the first on ties, like the backend's argmax). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}

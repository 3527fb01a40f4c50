package dev.longlora.trainer.data;

/**
 * LongLoRA's perplexity windows (longlora-method.md section 5): starts 0, stride, 2*stride, ... while
 * {@code start < length - seqLen}; each window is {@code seqLen} tokens and its loss covers every next-token
 * prediction inside it (labels = the window, shifted by the model as in HF).
 */
public final class EvalWindows {
    public static final int DEFAULT_STRIDE = 256;

    private EvalWindows() {}

    /** Number of windows: Python's len(range(0, length - seqLen, stride)). */
    public static long count(long length, int seqLen, int stride) {
        long span = length - seqLen;
        return span <= 0 ? 0 : (span + stride - 1) / stride;
    }

    public static long start(int index, int stride) {
        return (long) index * stride;
    }
}

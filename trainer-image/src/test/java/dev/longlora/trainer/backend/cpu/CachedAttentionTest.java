package dev.longlora.trainer.backend.cpu;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.KvCacheLayout;
import dev.longlora.trainer.backend.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The decoding ops of the CPU backend against its training forward: RoPE from a start position and attention over a
 * KV cache give exactly the rows of one pass over the whole sequence, whatever the chunking and the thread count.
 */
class CachedAttentionTest {
    // 150 tokens: more than two query tiles of 64, and a key count that is no multiple of a vector.
    private static final int T = 150;
    private static final int H = 6;
    private static final int HKV = 2;
    private static final int D = 16;
    private static final int[] CHUNKS = {70, 1, 1, 50, 1, 27};

    @Test
    void ropeFromAStartPositionRotatesLikeTheRowsOfTheWholeSequence() {
        try (CpuBackend be = new CpuBackend(2)) {
            float[] x = random(T * H * D, 0, 1, 4);
            float[] whole = rope(be, x, 0, T);
            int start = 0;
            for (int n : CHUNKS) {
                float[] part = rope(be, Arrays.copyOfRange(x, start * H * D, (start + n) * H * D), start, n);
                assertArrayEquals(Arrays.copyOfRange(whole, start * H * D, (start + n) * H * D), part, "rows " + start);
                start += n;
            }
        }
    }

    @Test
    void attentionOverTheCacheEqualsTheFullCausalForwardBitForBit() {
        float[] q = random(T * H * D, 0, 1, 1);
        float[] k = random(T * HKV * D, 0, 1, 2);
        float[] v = random(T * HKV * D, 0, 1, 3);
        float[] full;
        try (CpuBackend be = new CpuBackend(2);
                Tensor out = be.allocate(T, H * D);
                Tensor lse = be.allocate(H, T);
                Tensor tq = put(be, q, T, H * D);
                Tensor tk = put(be, k, T, HKV * D);
                Tensor tv = put(be, v, T, HKV * D)) {
            be.attentionForward(out, lse, tq, tk, tv, H, HKV, T, false);
            full = be.download(out);
        }
        for (int threads : new int[] {1, 3}) {
            assertArrayEquals(full, decodeInChunks(threads, q, k, v), threads + " thread(s)");
        }
    }

    @Test
    void aCacheTooShortIsRefused() {
        try (CpuBackend be = new CpuBackend(1);
                Tensor q = be.allocate(3, H * D);
                Tensor out = be.allocate(3, H * D);
                Tensor k = be.allocate(3, HKV * D);
                Tensor v = be.allocate(3, HKV * D);
                Tensor keys = be.allocate(KvCacheLayout.shape(HKV, 4, D));
                Tensor values = be.allocate(KvCacheLayout.shape(HKV, 4, D))) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> be.cachedAttentionForward(out, q, k, v, keys, values, 2, H, HKV));
            assertTrue(e.getMessage().contains("do not fit a cache of 4 positions"), e.getMessage());
        }
    }

    /** Attention outputs of all T tokens, fed to the cache in {@link #CHUNKS}. */
    private static float[] decodeInChunks(int threads, float[] q, float[] k, float[] v) {
        float[] got = new float[T * H * D];
        try (CpuBackend be = new CpuBackend(threads);
                Tensor keys = be.allocate(KvCacheLayout.shape(HKV, T, D));
                Tensor values = be.allocate(KvCacheLayout.shape(HKV, T, D))) {
            int start = 0;
            for (int n : CHUNKS) {
                try (Tensor out = be.allocate(n, H * D);
                        Tensor tq = put(be, slice(q, start, n, H * D), n, H * D);
                        Tensor tk = put(be, slice(k, start, n, HKV * D), n, HKV * D);
                        Tensor tv = put(be, slice(v, start, n, HKV * D), n, HKV * D)) {
                    be.cachedAttentionForward(out, tq, tk, tv, keys, values, start, H, HKV);
                    System.arraycopy(be.download(out), 0, got, start * H * D, n * H * D);
                }
                start += n;
            }
        }
        return got;
    }

    private static float[] rope(CpuBackend be, float[] x, int start, int rows) {
        try (Tensor t = put(be, x, rows, H * D)) {
            be.ropeForward(t, H, 10000f, 2f, start);
            return be.download(t);
        }
    }

    private static float[] slice(float[] x, int start, int rows, int cols) {
        return Arrays.copyOfRange(x, start * cols, (start + rows) * cols);
    }

    private static Tensor put(CpuBackend be, float[] data, int... shape) {
        Tensor t = be.allocate(shape);
        be.upload(t, data);
        return t;
    }
}

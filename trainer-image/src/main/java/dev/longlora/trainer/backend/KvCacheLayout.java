package dev.longlora.trainer.backend;

import java.util.Arrays;

/**
 * The layout of a key or value cache for {@link Backend#cachedAttentionForward}: one tensor per layer and kind,
 * [kvHeads, capacity, headDim], head-major, so the cached keys of one head are consecutive rows that a matrix product
 * reads in place.
 */
public final class KvCacheLayout {
    private KvCacheLayout() {}

    /** The shape of one cache tensor. */
    public static int[] shape(int kvHeads, int capacity, int headDim) {
        return new int[] {kvHeads, capacity, headDim};
    }

    /**
     * Checks the operands of {@link Backend#cachedAttentionForward} and returns the caches' capacity; the error names
     * every shape.
     */
    public static int check(
            Tensor out,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor keyCache,
            Tensor valueCache,
            int start,
            int heads,
            int kvHeads) {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "cached attention: " + heads + " query heads are not a multiple of " + kvHeads + " KV heads");
        }
        int tokens = q.rows();
        int dim = q.cols() / heads;
        int[] cache = keyCache.shape();
        if (q.cols() != heads * dim
                || !Arrays.equals(out.shape(), q.shape())
                || k.rows() != tokens
                || k.cols() != kvHeads * dim
                || !Arrays.equals(v.shape(), k.shape())
                || !Arrays.equals(cache, shape(kvHeads, cache.length == 3 ? cache[1] : -1, dim))
                || !Arrays.equals(valueCache.shape(), cache)) {
            throw new IllegalArgumentException("cached attention: q " + Arrays.toString(q.shape()) + ", k "
                    + Arrays.toString(k.shape()) + ", v " + Arrays.toString(v.shape()) + ", out "
                    + Arrays.toString(out.shape()) + " and caches " + Arrays.toString(cache) + ", "
                    + Arrays.toString(valueCache.shape()) + " do not fit " + heads + " query and " + kvHeads
                    + " KV heads (a cache is [kvHeads, capacity, headDim])");
        }
        if (start < 0 || start + tokens > cache[1]) {
            throw new IllegalArgumentException("cached attention: positions [" + start + ", " + (start + tokens)
                    + ") do not fit a cache of " + cache[1] + " positions");
        }
        return cache[1];
    }
}

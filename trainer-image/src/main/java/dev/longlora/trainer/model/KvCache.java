package dev.longlora.trainer.model;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.KvCacheLayout;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.layers.SelfAttention;

/**
 * The keys (after RoPE) and values of the tokens a model has decoded so far, per layer, as tensors of the model's
 * backend ({@link KvCacheLayout}), for at most {@link #capacity()} tokens: made by {@link LlamaModel#newKvCache},
 * filled by {@link LlamaModel#decode}. The tokens it holds are those at positions [0, {@link #length()}).
 */
public final class KvCache implements AutoCloseable {
    private final LlamaModel model;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private int length;
    private double ropeFactor;

    KvCache(LlamaModel model, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        }
        LlamaConfig c = model.config();
        Backend be = model.backend();
        this.model = model;
        this.capacity = capacity;
        keys = new Tensor[c.numLayers()];
        values = new Tensor[c.numLayers()];
        try {
            for (int l = 0; l < keys.length; l++) {
                keys[l] = be.allocate(KvCacheLayout.shape(c.numKvHeads(), capacity, c.headDim()));
                values[l] = be.allocate(KvCacheLayout.shape(c.numKvHeads(), capacity, c.headDim()));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    /** The most tokens the cache holds. */
    public int capacity() {
        return capacity;
    }

    /** Tokens held: the position of the next token. */
    public int length() {
        return length;
    }

    /** Forgets every token (the next one is at position 0 again). */
    public void clear() {
        length = 0;
    }

    /**
     * Checks that {@code n} more tokens of {@code owner} at PI factor {@code factor} fit: the cached keys were rotated
     * at the factor of the first token, so they only fit later tokens at that factor.
     */
    void requireRoom(LlamaModel owner, int n, double factor) {
        if (owner != model) {
            throw new IllegalArgumentException("this KV cache belongs to another model");
        }
        if (length + n > capacity) {
            throw new IllegalArgumentException(
                    "the KV cache holds " + capacity + " tokens; " + length + " + " + n + " do not fit");
        }
        if (length > 0 && factor != ropeFactor) {
            throw new IllegalStateException("the KV cache holds keys rotated at PI factor " + ropeFactor
                    + ", not the model's " + factor + ": clear it after changing the factor");
        }
        ropeFactor = factor;
    }

    /** Layer {@code l}'s cache for the next tokens. */
    SelfAttention.Cache layer(int l) {
        return new SelfAttention.Cache(keys[l], values[l], length);
    }

    /** Counts {@code n} more tokens as cached (their keys and values are written). */
    void advance(int n) {
        length += n;
    }

    @Override
    public void close() {
        for (Tensor[] kind : new Tensor[][] {keys, values}) {
            for (int l = 0; l < kind.length; l++) {
                if (kind[l] != null) {
                    kind[l].close();
                    kind[l] = null;
                }
            }
        }
    }
}

package dev.longlora.trainer.layers;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;

/**
 * LLaMA self-attention: q/k/v projections (LoRA-capable), RoPE with linear PI on q and k, causal attention (full,
 * S2 or grouped without shift, with GQA), o projection.
 */
public final class SelfAttention {
    final LoraLinear q;
    final LoraLinear k;
    final LoraLinear v;
    final LoraLinear o;
    private final int heads;
    private final int kvHeads;

    public SelfAttention(LoraLinear q, LoraLinear k, LoraLinear v, LoraLinear o, int heads, int kvHeads) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.heads = heads;
        this.kvHeads = kvHeads;
    }

    /** Per-token geometry and rotary settings of one call. */
    public record Geometry(int groupSize, boolean shiftHalf, float ropeTheta, float ropeFactor) {}

    /**
     * One layer's key/value cache for decoding: the keys (after RoPE) and values of the tokens at positions
     * [0, start), in the backend's {@code KvCacheLayout}, with room for the tokens of this call after them.
     */
    public record Cache(Tensor keys, Tensor values, int start) {}

    /** Forward activations. */
    public static final class Acts {
        final Tensor qh;
        final Tensor kh;
        final Tensor vh;
        final Tensor att;
        final Tensor lse;
        final LoraLinear.Acts qa;
        final LoraLinear.Acts ka;
        final LoraLinear.Acts va;
        final LoraLinear.Acts oa;

        Acts(Backend be, SelfAttention a, int tokens, boolean training) {
            qh = be.allocate(tokens, a.q.out());
            kh = be.allocate(tokens, a.k.out());
            vh = be.allocate(tokens, a.v.out());
            att = be.allocate(tokens, a.q.out());
            lse = be.allocate(a.heads, tokens);
            qa = new LoraLinear.Acts(be, a.q, tokens, training);
            ka = new LoraLinear.Acts(be, a.k, tokens, training);
            va = new LoraLinear.Acts(be, a.v, tokens, training);
            oa = new LoraLinear.Acts(be, a.o, tokens, training);
        }

        void close() {
            for (Tensor t : new Tensor[] {qh, kh, vh, att, lse}) {
                t.close();
            }
            qa.close();
            ka.close();
            va.close();
            oa.close();
        }
    }

    /**
     * y = attention(x) for normed input x [T, C]; y [T, C] overwritten. With a {@code cache} (decoding), the T tokens
     * are those at positions [cache.start(), cache.start() + T) and attend, fully causally, to the cached ones too;
     * their keys and values are added to the cache. Without one they are positions [0, T) with the geometry's
     * grouping.
     */
    public void forward(Backend be, Tensor y, Tensor x, Acts a, Geometry g, long seed, Cache cache) {
        q.forward(be, a.qh, x, a.qa, seed + 1);
        k.forward(be, a.kh, x, a.ka, seed + 2);
        v.forward(be, a.vh, x, a.va, seed + 3);
        int start = cache == null ? 0 : cache.start();
        be.ropeForward(a.qh, heads, g.ropeTheta(), g.ropeFactor(), start);
        be.ropeForward(a.kh, kvHeads, g.ropeTheta(), g.ropeFactor(), start);
        if (cache == null) {
            be.attentionForward(a.att, a.lse, a.qh, a.kh, a.vh, heads, kvHeads, g.groupSize(), g.shiftHalf());
        } else {
            be.cachedAttentionForward(a.att, a.qh, a.kh, a.vh, cache.keys(), cache.values(), start, heads, kvHeads);
        }
        o.forward(be, y, a.att, a.oa, seed + 4);
    }

    /** Given dy [T, C], accumulates weight gradients and dx [T, C] += dL/dx. */
    public void backward(Backend be, Tensor dy, Tensor x, Tensor dx, Acts a, Geometry g, long seed, Scratch s) {
        be.zero(s.dAtt);
        o.backward(be, dy, a.att, s.dAtt, a.oa, seed + 4, s.dAx, s.dSrcAttn);
        be.zero(s.dQ);
        be.zero(s.dK);
        be.zero(s.dV);
        be.attentionBackward(
                s.dQ, s.dK, s.dV, s.dAtt, a.qh, a.kh, a.vh, a.att, a.lse, heads, kvHeads, g.groupSize(), g.shiftHalf());
        be.ropeBackward(s.dQ, heads, g.ropeTheta(), g.ropeFactor());
        be.ropeBackward(s.dK, kvHeads, g.ropeTheta(), g.ropeFactor());
        q.backward(be, s.dQ, x, dx, a.qa, seed + 1, s.dAx, s.dSrcHidden);
        k.backward(be, s.dK, x, dx, a.ka, seed + 2, s.dAx, s.dSrcHidden);
        v.backward(be, s.dV, x, dx, a.va, seed + 3, s.dAx, s.dSrcHidden);
    }

    /** Gradient scratch shared by all layers. */
    public static final class Scratch {
        final Tensor dAtt;
        final Tensor dQ;
        final Tensor dK;
        final Tensor dV;
        final Tensor dAx;
        final Tensor dSrcAttn;
        final Tensor dSrcHidden;

        Scratch(Backend be, SelfAttention a, int tokens, int rank, int hidden, boolean dropout) {
            dAtt = be.allocate(tokens, a.q.out());
            dQ = be.allocate(tokens, a.q.out());
            dK = be.allocate(tokens, a.k.out());
            dV = be.allocate(tokens, a.v.out());
            dAx = be.allocate(tokens, Math.max(rank, 1));
            dSrcAttn = dropout ? be.allocate(tokens, a.o.in()) : null;
            dSrcHidden = dropout ? be.allocate(tokens, hidden) : null;
        }

        void close() {
            for (Tensor t : new Tensor[] {dAtt, dQ, dK, dV, dAx, dSrcAttn, dSrcHidden}) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}

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

        Acts(Backend be, SelfAttention a, int tokens) {
            qh = be.allocate(tokens, a.q.out());
            kh = be.allocate(tokens, a.k.out());
            vh = be.allocate(tokens, a.v.out());
            att = be.allocate(tokens, a.q.out());
            lse = be.allocate(a.heads, tokens);
            qa = new LoraLinear.Acts(be, a.q, tokens);
            ka = new LoraLinear.Acts(be, a.k, tokens);
            va = new LoraLinear.Acts(be, a.v, tokens);
            oa = new LoraLinear.Acts(be, a.o, tokens);
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

    /** y = attention(x) for normed input x [T, C]; y [T, C] overwritten. */
    public void forward(Backend be, Tensor y, Tensor x, Acts a, Geometry g, long seed) {
        q.forward(be, a.qh, x, a.qa, seed + 1);
        k.forward(be, a.kh, x, a.ka, seed + 2);
        v.forward(be, a.vh, x, a.va, seed + 3);
        be.ropeForward(a.qh, heads, g.ropeTheta(), g.ropeFactor());
        be.ropeForward(a.kh, kvHeads, g.ropeTheta(), g.ropeFactor());
        be.attentionForward(a.att, a.lse, a.qh, a.kh, a.vh, heads, kvHeads, g.groupSize(), g.shiftHalf());
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

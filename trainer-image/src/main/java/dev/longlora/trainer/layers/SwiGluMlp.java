package dev.longlora.trainer.layers;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;

/** LLaMA MLP: y = down(silu(gate(x)) * up(x)), each projection LoRA-capable. */
public final class SwiGluMlp {
    final LoraLinear gate;
    final LoraLinear up;
    final LoraLinear down;

    public SwiGluMlp(LoraLinear gate, LoraLinear up, LoraLinear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /** Forward activations. */
    public static final class Acts {
        final Tensor g;
        final Tensor u;
        final Tensor h;
        final LoraLinear.Acts ga;
        final LoraLinear.Acts ua;
        final LoraLinear.Acts da;

        Acts(Backend be, SwiGluMlp m, int tokens, boolean training) {
            g = be.allocate(tokens, m.gate.out());
            u = be.allocate(tokens, m.up.out());
            h = be.allocate(tokens, m.gate.out());
            ga = new LoraLinear.Acts(be, m.gate, tokens, training);
            ua = new LoraLinear.Acts(be, m.up, tokens, training);
            da = new LoraLinear.Acts(be, m.down, tokens, training);
        }

        void close() {
            g.close();
            u.close();
            h.close();
            ga.close();
            ua.close();
            da.close();
        }
    }

    /**
     * Forward for normed input x [T, C]. When {@code y} is null (recomputation for backward) the down projection is
     * skipped: backward needs only h.
     */
    public void forward(Backend be, Tensor y, Tensor x, Acts a, long seed) {
        gate.forward(be, a.g, x, a.ga, seed + 5);
        up.forward(be, a.u, x, a.ua, seed + 6);
        be.swigluForward(a.h, a.g, a.u);
        if (y != null) {
            down.forward(be, y, a.h, a.da, seed + 7);
        } else if (down.hasAdapter()) {
            // The adapter's x A^T is needed by backward, so recompute the adapter path into scratch-free activations.
            Tensor tmp = be.allocate(a.h.rows(), down.out());
            down.forward(be, tmp, a.h, a.da, seed + 7);
            tmp.close();
        }
    }

    /** Given dy [T, C], accumulates weight gradients and dx [T, C] += dL/dx. */
    public void backward(
            Backend be, Tensor dy, Tensor x, Tensor dx, Acts a, long seed, Scratch s, Tensor dAx, Tensor dSrcHidden) {
        be.zero(s.dH);
        down.backward(be, dy, a.h, s.dH, a.da, seed + 7, dAx, s.dSrcInter);
        be.zero(s.dG);
        be.zero(s.dU);
        be.swigluBackward(s.dG, s.dU, s.dH, a.g, a.u);
        gate.backward(be, s.dG, x, dx, a.ga, seed + 5, dAx, dSrcHidden);
        up.backward(be, s.dU, x, dx, a.ua, seed + 6, dAx, dSrcHidden);
    }

    /** Gradient scratch shared by all layers. */
    public static final class Scratch {
        final Tensor dH;
        final Tensor dG;
        final Tensor dU;
        final Tensor dSrcInter;

        Scratch(Backend be, SwiGluMlp m, int tokens, boolean dropout) {
            dH = be.allocate(tokens, m.gate.out());
            dG = be.allocate(tokens, m.gate.out());
            dU = be.allocate(tokens, m.up.out());
            dSrcInter = dropout ? be.allocate(tokens, m.down.in()) : null;
        }

        void close() {
            dH.close();
            dG.close();
            dU.close();
            if (dSrcInter != null) {
                dSrcInter.close();
            }
        }
    }
}

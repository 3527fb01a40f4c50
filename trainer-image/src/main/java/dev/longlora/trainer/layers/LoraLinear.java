package dev.longlora.trainer.layers;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.parameter.Parameter;

/**
 * A bias-free linear layer y = x W^T with an optional LoRA adapter: y += (alpha / r) * (drop(x) A^T) B^T, where
 * W is [out, in], A is [r, in] and B is [out, r] (PEFT's layout). Dropout applies to the adapter input only.
 */
public final class LoraLinear {
    private final Parameter weight;
    private final Parameter loraA;
    private final Parameter loraB;
    private final float scaling;
    private final float dropout;

    /** A layer over {@code weight}; {@code loraA}/{@code loraB} null for no adapter. */
    public LoraLinear(Parameter weight, Parameter loraA, Parameter loraB, float scaling, float dropout) {
        this.weight = weight;
        this.loraA = loraA;
        this.loraB = loraB;
        this.scaling = scaling;
        this.dropout = dropout;
    }

    /** Input features. */
    public int in() {
        return weight.shape()[1];
    }

    /** Output features. */
    public int out() {
        return weight.shape()[0];
    }

    /** Whether an adapter is attached. */
    public boolean hasAdapter() {
        return loraA != null;
    }

    /** LoRA rank, 0 without an adapter. */
    public int rank() {
        return hasAdapter() ? loraA.shape()[0] : 0;
    }

    /**
     * Activations of one forward pass that backward needs: the adapter's x A^T and the dropped-out input. Dropout is
     * part of the pass: activations for inference have no dropped-out input, and a forward with them leaves the
     * adapter input as it is (PyTorch's eval mode).
     */
    public static final class Acts {
        final Tensor ax;
        final Tensor dropped;

        /** Allocates the activations of {@code layer} for T tokens of a training pass (none without an adapter). */
        public Acts(Backend be, LoraLinear layer, int tokens) {
            this(be, layer, tokens, true);
        }

        /** Activations for T tokens; {@code training} false: an inference pass, without dropout. */
        public Acts(Backend be, LoraLinear layer, int tokens, boolean training) {
            ax = layer.hasAdapter() ? be.allocate(tokens, layer.rank()) : null;
            dropped = training && layer.hasAdapter() && layer.dropout > 0 ? be.allocate(tokens, layer.in()) : null;
        }

        void close() {
            if (ax != null) {
                ax.close();
            }
            if (dropped != null) {
                dropped.close();
            }
        }
    }

    /** Releases {@code acts}. */
    public static void release(Acts acts) {
        acts.close();
    }

    /** y = x W^T (+ adapter). x [T, in], y [T, out] (overwritten). */
    public void forward(Backend be, Tensor y, Tensor x, Acts acts, long dropoutSeed) {
        be.matmul(y, x, false, weight.value(), true, 1f, 0f);
        if (hasAdapter()) {
            Tensor src = x;
            if (acts.dropped != null) {
                be.dropoutForward(acts.dropped, x, dropout, dropoutSeed);
                src = acts.dropped;
            }
            be.matmul(acts.ax, src, false, loraA.value(), true, 1f, 0f);
            be.matmul(y, acts.ax, false, loraB.value(), true, scaling, 1f);
        }
    }

    /**
     * Backward given dy [T, out]: accumulates into the trainable weight gradients and, if {@code dx} is non-null,
     * dx [T, in] += dL/dx. {@code dAx} is scratch of at least [T, r]; {@code dSrc} scratch [T, in] (only used with
     * dropout).
     */
    public void backward(
            Backend be, Tensor dy, Tensor x, Tensor dx, Acts acts, long dropoutSeed, Tensor dAx, Tensor dSrc) {
        if (weight.trainable()) {
            be.matmul(weight.grad(), dy, true, x, false, 1f, 1f);
        }
        if (dx != null) {
            be.matmul(dx, dy, false, weight.value(), false, 1f, 1f);
        }
        if (!hasAdapter()) {
            return;
        }
        Tensor src = acts.dropped != null ? acts.dropped : x;
        if (loraB.trainable()) {
            be.matmul(loraB.grad(), dy, true, acts.ax, false, scaling, 1f);
        }
        be.matmul(dAx, dy, false, loraB.value(), false, scaling, 0f);
        if (loraA.trainable()) {
            be.matmul(loraA.grad(), dAx, true, src, false, 1f, 1f);
        }
        if (dx != null) {
            if (acts.dropped != null) {
                be.matmul(dSrc, dAx, false, loraA.value(), false, 1f, 0f);
                be.dropoutBackward(dx, dSrc, dropout, dropoutSeed);
            } else {
                be.matmul(dx, dAx, false, loraA.value(), false, 1f, 1f);
            }
        }
    }
}

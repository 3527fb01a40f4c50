package dev.longlora.trainer.layers;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.parameter.Parameter;

/**
 * One pre-norm LLaMA decoder layer: x2 = x + attn(rmsnorm1(x)); out = x2 + mlp(rmsnorm2(x2)).
 */
public final class DecoderLayer {
    private final Parameter inputNorm;
    private final Parameter postAttentionNorm;
    private final SelfAttention attention;
    private final SwiGluMlp mlp;
    private final float eps;

    public DecoderLayer(
            Parameter inputNorm, Parameter postAttentionNorm, SelfAttention attention, SwiGluMlp mlp, float eps) {
        this.inputNorm = inputNorm;
        this.postAttentionNorm = postAttentionNorm;
        this.attention = attention;
        this.mlp = mlp;
        this.eps = eps;
    }

    /** Everything one forward pass of this layer keeps for backward (except its input, owned by the caller). */
    public static final class Acts implements AutoCloseable {
        final Tensor xn1;
        final Tensor rstd1;
        final Tensor x2;
        final Tensor xn2;
        final Tensor rstd2;
        final Tensor attnOut;
        final SelfAttention.Acts attn;
        final SwiGluMlp.Acts mlp;

        /** The activations of a training pass over T tokens. */
        public Acts(Backend be, DecoderLayer layer, int tokens, int hidden) {
            this(be, layer, tokens, hidden, true);
        }

        /** Activations for T tokens; {@code training} false: an inference pass, without LoRA dropout. */
        public Acts(Backend be, DecoderLayer layer, int tokens, int hidden, boolean training) {
            xn1 = be.allocate(tokens, hidden);
            rstd1 = be.allocate(tokens);
            x2 = be.allocate(tokens, hidden);
            xn2 = be.allocate(tokens, hidden);
            rstd2 = be.allocate(tokens);
            attnOut = be.allocate(tokens, hidden);
            attn = new SelfAttention.Acts(be, layer.attention, tokens, training);
            mlp = new SwiGluMlp.Acts(be, layer.mlp, tokens, training);
        }

        @Override
        public void close() {
            for (Tensor t : new Tensor[] {xn1, rstd1, x2, xn2, rstd2, attnOut}) {
                t.close();
            }
            attn.close();
            mlp.close();
        }
    }

    /** Gradient scratch shared by all layers of a model. */
    public static final class Scratch implements AutoCloseable {
        final Tensor dXn;
        final SelfAttention.Scratch attn;
        final SwiGluMlp.Scratch mlp;

        public Scratch(Backend be, DecoderLayer layer, int tokens, int hidden, int rank, boolean dropout) {
            dXn = be.allocate(tokens, hidden);
            attn = new SelfAttention.Scratch(be, layer.attention, tokens, rank, hidden, dropout);
            mlp = new SwiGluMlp.Scratch(be, layer.mlp, tokens, dropout);
        }

        @Override
        public void close() {
            dXn.close();
            attn.close();
            mlp.close();
        }
    }

    /**
     * Forward: out = layer(x). With {@code out} null (recomputation inside backward) the final MLP projection and
     * residual add are skipped, since backward does not need the layer output. With a {@code cache} (decoding, else
     * null) the tokens follow the cached ones; see {@link SelfAttention#forward}.
     */
    public void forward(
            Backend be, Tensor out, Tensor x, Acts a, SelfAttention.Geometry g, long seed, SelfAttention.Cache cache) {
        be.rmsnormForward(a.xn1, a.rstd1, x, inputNorm.value(), eps);
        attention.forward(be, a.attnOut, a.xn1, a.attn, g, seed, cache);
        be.copy(a.x2, x);
        be.axpy(1f, a.attnOut, a.x2);
        be.rmsnormForward(a.xn2, a.rstd2, a.x2, postAttentionNorm.value(), eps);
        if (out == null) {
            mlp.forward(be, null, a.xn2, a.mlp, seed);
            return;
        }
        mlp.forward(be, out, a.xn2, a.mlp, seed);
        be.axpy(1f, a.x2, out);
    }

    /**
     * Backward in place on the residual gradient: on entry {@code dResid} holds dL/d(out), on exit dL/dx. Weight
     * gradients accumulate into trainable parameters.
     */
    public void backward(Backend be, Tensor dResid, Tensor x, Acts a, SelfAttention.Geometry g, long seed, Scratch s) {
        // MLP branch: out = x2 + mlp(norm2(x2)).
        be.zero(s.dXn);
        mlp.backward(be, dResid, a.xn2, s.dXn, a.mlp, seed, s.mlp, s.attn.dAx, s.attn.dSrcHidden);
        be.rmsnormBackward(dResid, postAttentionNorm.grad(), s.dXn, a.x2, postAttentionNorm.value(), a.rstd2);
        // Attention branch: x2 = x + attn(norm1(x)).
        be.zero(s.dXn);
        attention.backward(be, dResid, a.xn1, s.dXn, a.attn, g, seed, s.attn);
        be.rmsnormBackward(dResid, inputNorm.grad(), s.dXn, x, inputNorm.value(), a.rstd1);
    }
}

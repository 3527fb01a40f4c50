package dev.longlora.trainer.model;

import dev.longlora.contract.ModelShape;

/**
 * Shape and numerical constants of a LLaMA-family model, named after the fields of HF's {@code config.json}.
 *
 * @param vocabSize             number of token ids ({@code vocab_size})
 * @param hiddenSize            residual width C ({@code hidden_size})
 * @param intermediateSize      SwiGLU inner width ({@code intermediate_size})
 * @param numLayers             decoder layers ({@code num_hidden_layers})
 * @param numHeads              query heads H ({@code num_attention_heads})
 * @param numKvHeads            key/value heads for grouped-query attention ({@code num_key_value_heads}); H % Hkv == 0
 * @param rmsNormEps            RMSNorm epsilon ({@code rms_norm_eps})
 * @param ropeTheta             RoPE base ({@code rope_theta})
 * @param maxPositionEmbeddings context the model was trained at ({@code max_position_embeddings})
 * @param ropeScalingFactor     linear position-interpolation factor ({@code rope_scaling: {type: linear, factor}}); 1 = none
 * @param tieWordEmbeddings     the LM head reuses the token embedding ({@code tie_word_embeddings})
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        double rmsNormEps,
        double ropeTheta,
        int maxPositionEmbeddings,
        double ropeScalingFactor,
        boolean tieWordEmbeddings) {

    /** Dimension of one attention head: hiddenSize / numHeads. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** What the memory planner needs of this config (the contract's {@link ModelShape}). */
    public ModelShape shape() {
        return new ModelShape(
                vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, tieWordEmbeddings);
    }

    /** Query heads that share one key/value head: numHeads / numKvHeads. */
    public int kvGroupSize() {
        return numHeads / numKvHeads;
    }

    /** The same model with another linear PI factor (e.g. 4 when extending 128 -> 512 tokens). */
    public LlamaConfig withRopeScalingFactor(double factor) {
        return new LlamaConfig(
                vocabSize,
                hiddenSize,
                intermediateSize,
                numLayers,
                numHeads,
                numKvHeads,
                rmsNormEps,
                ropeTheta,
                maxPositionEmbeddings,
                factor,
                tieWordEmbeddings);
    }

    /** The same model with another {@code max_position_embeddings}. */
    public LlamaConfig withMaxPositionEmbeddings(int positions) {
        return new LlamaConfig(
                vocabSize,
                hiddenSize,
                intermediateSize,
                numLayers,
                numHeads,
                numKvHeads,
                rmsNormEps,
                ropeTheta,
                positions,
                ropeScalingFactor,
                tieWordEmbeddings);
    }

    /**
     * Checks every field and returns this config; throws {@link IllegalArgumentException} naming the field and the fix.
     */
    public LlamaConfig validate() {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size=" + hiddenSize + " is not divisible by num_attention_heads="
                    + numHeads + ": choose a head count that divides the hidden size");
        }
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException(
                    "num_attention_heads=" + numHeads + " is not a multiple of num_key_value_heads=" + numKvHeads
                            + ": grouped-query attention needs whole groups of query heads per KV head");
        }
        if (headDim() % 2 != 0) {
            throw new IllegalArgumentException("head dimension hidden_size/num_attention_heads=" + headDim()
                    + " is odd: RoPE rotates pairs, so it must be even");
        }
        if (!(rmsNormEps > 0) || !Double.isFinite(rmsNormEps)) {
            throw new IllegalArgumentException(
                    "rms_norm_eps=" + rmsNormEps + " must be a positive number (LLaMA uses 1e-5 or 1e-6)");
        }
        if (!(ropeTheta > 0) || !Double.isFinite(ropeTheta)) {
            throw new IllegalArgumentException(
                    "rope_theta=" + ropeTheta + " must be a positive number (LLaMA-2 uses 10000)");
        }
        if (!(ropeScalingFactor > 0) || !Double.isFinite(ropeScalingFactor)) {
            throw new IllegalArgumentException("rope_scaling.factor=" + ropeScalingFactor
                    + " must be a positive number (1 = no position interpolation)");
        }
        return this;
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + "=" + value + " must be a positive integer");
        }
    }
}

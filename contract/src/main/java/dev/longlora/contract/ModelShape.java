package dev.longlora.contract;

import java.util.Map;
import java.util.Optional;

/**
 * The shape of a LLaMA-family model, all the memory planner needs to know about it. The trainer reads it from the
 * model's {@code config.json}; the operator, which never reads model files, from the job's spec or from
 * {@link #known(String)}.
 *
 * @param vocabSize {@code vocab_size}
 * @param hiddenSize {@code hidden_size}
 * @param intermediateSize {@code intermediate_size}
 * @param numLayers {@code num_hidden_layers}
 * @param numHeads {@code num_attention_heads}
 * @param numKvHeads {@code num_key_value_heads} (= numHeads without GQA)
 * @param tieWordEmbeddings {@code tie_word_embeddings}: the LM head is the embedding table
 */
public record ModelShape(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        boolean tieWordEmbeddings) {

    private static final Map<String, ModelShape> KNOWN = Map.of(
            "meta-llama/Llama-2-7b-hf", new ModelShape(32000, 4096, 11008, 32, 32, 32, false),
            "meta-llama/Llama-2-13b-hf", new ModelShape(32000, 5120, 13824, 40, 40, 40, false),
            "meta-llama/Llama-2-70b-hf", new ModelShape(32000, 8192, 28672, 80, 64, 8, false),
            "meta-llama/Meta-Llama-3-8B", new ModelShape(128256, 4096, 14336, 32, 32, 8, false),
            "meta-llama/Meta-Llama-3-70B", new ModelShape(128256, 8192, 28672, 80, 64, 8, false));

    /** The shape of a common model by its Hugging Face name (LLaMA-2 7B/13B/70B, LLaMA-3 8B/70B), if known. */
    public static Optional<ModelShape> known(String name) {
        return Optional.ofNullable(name == null ? null : KNOWN.get(name));
    }

    /** The head dimension, hiddenSize / numHeads. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Columns of the key (and value) projection, numKvHeads x headDim. */
    public int kvColumns() {
        return numKvHeads * headDim();
    }

    /** Checks the shape; throws {@link ConfigException} naming the field and the fix. */
    public ModelShape validate() {
        require(vocabSize > 0, "vocab_size=" + vocabSize + " must be positive");
        require(hiddenSize > 0, "hidden_size=" + hiddenSize + " must be positive");
        require(intermediateSize > 0, "intermediate_size=" + intermediateSize + " must be positive");
        require(numLayers > 0, "num_hidden_layers=" + numLayers + " must be positive");
        require(
                numHeads > 0 && hiddenSize % numHeads == 0,
                "num_attention_heads=" + numHeads + " must be positive and divide hidden_size=" + hiddenSize);
        require(
                numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads=" + numKvHeads + " must be positive and divide num_attention_heads=" + numHeads);
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new ConfigException("model shape: " + message);
    }
}

package dev.longlora.trainer.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The one table of a LLaMA model's tensors: every HF/PEFT name, its shape from the {@link LlamaConfig}, and its
 * {@link Kind}, which says whether LoRA+ trains it and whether a PEFT adapter stores it. The model creates its
 * parameters from it, the loaders check model directories and adapters against it, and the merge reads its shapes
 * from it without building a model.
 *
 * <p>Order (the model's, and a merged directory's): embedding; per layer its input norm, q/k/v/o, post-attention
 * norm, gate/up/down, each linear weight followed by its LoRA A and B when adapted; final norm; head unless tied.
 * Shapes as stored in safetensors: linear weights [out, in], LoRA A [r, in], LoRA B [out, r].
 */
public final class LlamaTensors {
    public static final String EMBEDDING = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    /** The attention's linear layers, by their module names (PEFT's target_modules). */
    public static final List<String> ATTENTION_LINEARS = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    /** The MLP's linear layers. */
    public static final List<String> MLP_LINEARS = List.of("gate_proj", "up_proj", "down_proj");

    /** Every linear layer an adapter can sit on, in the model's order. */
    public static final List<String> LINEARS =
            Stream.concat(ATTENTION_LINEARS.stream(), MLP_LINEARS.stream()).toList();

    private static final String LORA_A_SUFFIX = ".lora_A.weight";
    private static final String LORA_B_SUFFIX = ".lora_B.weight";

    private LlamaTensors() {}

    /** What a tensor is. */
    public enum Kind {
        EMBEDDING,
        NORM,
        LINEAR,
        LORA_A,
        LORA_B,
        LM_HEAD;

        /** Whether the optimizer updates a tensor of this kind under {@code lora}. */
        public boolean trainable(LoraConfig lora) {
            return switch (this) {
                case EMBEDDING -> lora.fullFineTune() || lora.trainEmbeddings();
                case NORM -> lora.fullFineTune() || lora.trainNorms();
                case LINEAR, LM_HEAD -> lora.fullFineTune();
                case LORA_A, LORA_B -> true;
            };
        }

        /**
         * Whether a PEFT adapter trained with {@code lora} holds a tensor of this kind: the LoRA factors, and
         * LongLoRA's trained embedding and norms ({@code modules_to_save}).
         */
        public boolean inAdapter(LoraConfig lora) {
            return switch (this) {
                case LORA_A, LORA_B -> true;
                case EMBEDDING -> lora.trainEmbeddings();
                case NORM -> lora.trainNorms();
                case LINEAR, LM_HEAD -> false;
            };
        }
    }

    /** One tensor of the table. */
    public record Entry(String name, int[] shape, Kind kind) {}

    /** Every tensor of a model of {@code c} with the adapters of {@code lora}, in the model's order. */
    public static List<Entry> of(LlamaConfig c, LoraConfig lora) {
        List<Entry> out = new ArrayList<>();
        int h = c.hiddenSize();
        out.add(new Entry(EMBEDDING, new int[] {c.vocabSize(), h}, Kind.EMBEDDING));
        for (int i = 0; i < c.numLayers(); i++) {
            out.add(new Entry(inputNorm(i), new int[] {h}, Kind.NORM));
            for (String module : ATTENTION_LINEARS) {
                addLinear(out, c, lora, i, module);
            }
            out.add(new Entry(postAttentionNorm(i), new int[] {h}, Kind.NORM));
            for (String module : MLP_LINEARS) {
                addLinear(out, c, lora, i, module);
            }
        }
        out.add(new Entry(FINAL_NORM, new int[] {h}, Kind.NORM));
        if (!c.tieWordEmbeddings()) {
            out.add(new Entry(LM_HEAD, new int[] {c.vocabSize(), h}, Kind.LM_HEAD));
        }
        return out;
    }

    private static void addLinear(List<Entry> out, LlamaConfig c, LoraConfig lora, int layer, String module) {
        String name = linear(layer, module);
        int[] shape = linearShape(c, module);
        out.add(new Entry(name, shape, Kind.LINEAR));
        if (lora.adapts(module)) {
            out.add(new Entry(loraA(name), new int[] {lora.rank(), shape[1]}, Kind.LORA_A));
            out.add(new Entry(loraB(name), new int[] {shape[0], lora.rank()}, Kind.LORA_B));
        }
    }

    /** [out, in] of the linear layer {@code module}. */
    private static int[] linearShape(LlamaConfig c, String module) {
        int h = c.hiddenSize();
        int kv = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        return switch (module) {
            case "q_proj", "o_proj" -> new int[] {h, h};
            case "k_proj", "v_proj" -> new int[] {kv, h};
            case "gate_proj", "up_proj" -> new int[] {inter, h};
            case "down_proj" -> new int[] {h, inter};
            default -> throw new IllegalArgumentException("'" + module + "' is not a LLaMA linear layer");
        };
    }

    /** Name to shape of the base weights (a model directory's tensors), in the model's order. */
    public static Map<String, int[]> baseShapes(LlamaConfig c) {
        return shapes(c, LoraConfig.frozen(), false);
    }

    /** Name to shape of the LoRA factors of {@code lora}'s adapters, in the model's order. */
    public static Map<String, int[]> loraShapes(LlamaConfig c, LoraConfig lora) {
        return shapes(c, lora, true);
    }

    private static Map<String, int[]> shapes(LlamaConfig c, LoraConfig lora, boolean factors) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Entry e : of(c, lora)) {
            boolean factor = e.kind() == Kind.LORA_A || e.kind() == Kind.LORA_B;
            if (factor == factors) {
                out.put(e.name(), e.shape());
            }
        }
        return out;
    }

    /** {@code model.layers.<layer>.input_layernorm.weight}. */
    public static String inputNorm(int layer) {
        return layerPrefix(layer) + "input_layernorm.weight";
    }

    /** {@code model.layers.<layer>.post_attention_layernorm.weight}. */
    public static String postAttentionNorm(int layer) {
        return layerPrefix(layer) + "post_attention_layernorm.weight";
    }

    /** The weight of linear layer {@code module} of {@code layer}, e.g. {@code model.layers.0.self_attn.q_proj.weight}. */
    public static String linear(int layer, String module) {
        String block = ATTENTION_LINEARS.contains(module) ? "self_attn." : "mlp.";
        return layerPrefix(layer) + block + module + ".weight";
    }

    /** The LoRA A factor of the linear weight {@code weightName} ({@code ...q_proj.lora_A.weight}). */
    public static String loraA(String weightName) {
        return stem(weightName) + LORA_A_SUFFIX;
    }

    /** The LoRA B factor of the linear weight {@code weightName}. */
    public static String loraB(String weightName) {
        return stem(weightName) + LORA_B_SUFFIX;
    }

    /** The kind of the tensor called {@code name}, or null when the table has no such name. */
    public static Kind kindOf(String name) {
        if (name.endsWith(LORA_A_SUFFIX)) {
            return Kind.LORA_A;
        }
        if (name.endsWith(LORA_B_SUFFIX)) {
            return Kind.LORA_B;
        }
        if (name.equals(EMBEDDING)) {
            return Kind.EMBEDDING;
        }
        if (name.equals(LM_HEAD)) {
            return Kind.LM_HEAD;
        }
        if (name.equals(FINAL_NORM)
                || name.endsWith(".input_layernorm.weight")
                || name.endsWith(".post_attention_layernorm.weight")) {
            return Kind.NORM;
        }
        return name.endsWith("_proj.weight") ? Kind.LINEAR : null;
    }

    /** Whether {@code name} is a LoRA factor (part of an adapter, never of a model directory). */
    public static boolean isLoraFactor(String name) {
        Kind k = kindOf(name);
        return k == Kind.LORA_A || k == Kind.LORA_B;
    }

    /** Whether a PEFT adapter trained with {@code lora} holds the tensor {@code name} (see {@link Kind#inAdapter}). */
    public static boolean inAdapter(String name, LoraConfig lora) {
        Kind k = kindOf(name);
        return k != null && k.inAdapter(lora);
    }

    /** {@code model.layers.<layer>.}: the start of every name of that layer's tensors. */
    public static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    private static String stem(String weightName) {
        if (!weightName.endsWith(".weight")) {
            throw new IllegalArgumentException("'" + weightName + "' is not the name of a weight");
        }
        return weightName.substring(0, weightName.length() - ".weight".length());
    }
}

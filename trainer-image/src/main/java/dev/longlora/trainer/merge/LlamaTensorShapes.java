package dev.longlora.trainer.merge;

import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LoraConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The HF tensor names and shapes a LLaMA config implies (base weights, plus the LoRA factors of an adapter), in
 * the model's order, computed from the config alone so a merge never builds the model in memory.
 */
public final class LlamaTensorShapes {
    private LlamaTensorShapes() {}

    /** Base weights of {@code c}: embedding, per layer norms and projections, final norm, head (unless tied). */
    public static Map<String, int[]> base(LlamaConfig c) {
        Map<String, int[]> out = new LinkedHashMap<>();
        int h = c.hiddenSize();
        int kv = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        out.put("model.embed_tokens.weight", new int[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            out.put(p + "input_layernorm.weight", new int[] {h});
            out.put(p + "self_attn.q_proj.weight", new int[] {h, h});
            out.put(p + "self_attn.k_proj.weight", new int[] {kv, h});
            out.put(p + "self_attn.v_proj.weight", new int[] {kv, h});
            out.put(p + "self_attn.o_proj.weight", new int[] {h, h});
            out.put(p + "post_attention_layernorm.weight", new int[] {h});
            out.put(p + "mlp.gate_proj.weight", new int[] {inter, h});
            out.put(p + "mlp.up_proj.weight", new int[] {inter, h});
            out.put(p + "mlp.down_proj.weight", new int[] {h, inter});
        }
        out.put("model.norm.weight", new int[] {h});
        if (!c.tieWordEmbeddings()) out.put("lm_head.weight", new int[] {c.vocabSize(), h});
        return out;
    }

    /** LoRA factors {@code <module>.lora_A.weight} [r, in] and {@code lora_B.weight} [out, r] of every adapted linear. */
    public static Map<String, int[]> lora(LlamaConfig c, LoraConfig lora) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : base(c).entrySet()) {
            String module = moduleOf(e.getKey());
            if (module == null || !lora.adapts(module)) continue;
            String stem = e.getKey().substring(0, e.getKey().length() - ".weight".length());
            out.put(stem + ".lora_A.weight", new int[] {lora.rank(), e.getValue()[1]});
            out.put(stem + ".lora_B.weight", new int[] {e.getValue()[0], lora.rank()});
        }
        return out;
    }

    /** {@code q_proj} for {@code model.layers.3.self_attn.q_proj.weight}; null for weights that are not layer linears. */
    static String moduleOf(String weightName) {
        if (!weightName.startsWith("model.layers.") || !weightName.endsWith("_proj.weight")) return null;
        String stem = weightName.substring(0, weightName.length() - ".weight".length());
        return stem.substring(stem.lastIndexOf('.') + 1);
    }
}

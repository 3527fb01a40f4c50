package dev.longlora.trainer.generate;

import dev.longlora.trainer.merge.LoraFolding;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.ParameterStore;

/**
 * A model's weights as host arrays for inference, LoRA folded in (W + alpha/r B A, the same fold the merge
 * writes), so each projection of a decode step is one matrix-vector product.
 */
final class DecoderWeights {
    final LlamaConfig config;
    final float[] embed;
    final float[] lmHead;
    final float[] finalNorm;
    final Layer[] layers;

    record Layer(
            float[] inNorm,
            float[] q,
            float[] k,
            float[] v,
            float[] o,
            float[] postNorm,
            float[] gate,
            float[] up,
            float[] down) {}

    DecoderWeights(LlamaModel model) {
        config = model.config();
        ParameterStore p = model.parameters();
        LoraConfig lora = model.loraConfig();
        embed = p.values("model.embed_tokens.weight");
        lmHead = config.tieWordEmbeddings() ? embed : p.values("lm_head.weight");
        finalNorm = p.values("model.norm.weight");
        layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String pre = "model.layers." + i + ".";
            layers[i] = new Layer(
                    p.values(pre + "input_layernorm.weight"),
                    folded(p, lora, pre + "self_attn.q_proj"),
                    folded(p, lora, pre + "self_attn.k_proj"),
                    folded(p, lora, pre + "self_attn.v_proj"),
                    folded(p, lora, pre + "self_attn.o_proj"),
                    p.values(pre + "post_attention_layernorm.weight"),
                    folded(p, lora, pre + "mlp.gate_proj"),
                    folded(p, lora, pre + "mlp.up_proj"),
                    folded(p, lora, pre + "mlp.down_proj"));
        }
    }

    private static float[] folded(ParameterStore p, LoraConfig lora, String stem) {
        float[] w = p.values(stem + ".weight");
        if (!p.contains(stem + ".lora_A.weight")) return w;
        int[] shape = p.get(stem + ".weight").shape();
        return LoraFolding.fold(
                w,
                shape[0],
                shape[1],
                p.values(stem + ".lora_A.weight"),
                p.values(stem + ".lora_B.weight"),
                lora.rank(),
                lora.scaling());
    }
}

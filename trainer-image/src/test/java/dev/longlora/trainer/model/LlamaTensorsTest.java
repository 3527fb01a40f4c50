package dev.longlora.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The LLaMA tensor table: names, shapes from the config, kinds, and what LoRA+ trains and an adapter stores. */
class LlamaTensorsTest {
    // Vocab 23, hidden 16, MLP 24, 2 layers, 4 query heads over 2 KV heads (head dim 4).
    private static final LlamaConfig GQA = TinyModels.gqaConfig(1.0);

    @Test
    void shapesComeFromTheConfigInTheModelsOrder() {
        LoraConfig lora = new LoraConfig(3, 6, 0, List.of("k_proj", "down_proj"), true, true, false);
        List<LlamaTensors.Entry> all = LlamaTensors.of(GQA, lora);
        assertEquals(1 + 2 * (2 + 7 + 2 * 2) + 1 + 1, all.size());
        Map<String, int[]> shapes = new java.util.HashMap<>();
        all.forEach(e -> shapes.put(e.name(), e.shape()));
        assertArrayEquals(new int[] {8, 16}, shapes.get("model.layers.1.self_attn.k_proj.weight"));
        assertArrayEquals(new int[] {3, 16}, shapes.get("model.layers.1.self_attn.k_proj.lora_A.weight"));
        assertArrayEquals(new int[] {8, 3}, shapes.get("model.layers.1.self_attn.k_proj.lora_B.weight"));
        assertArrayEquals(new int[] {16, 24}, shapes.get("model.layers.0.mlp.down_proj.weight"));
        assertArrayEquals(new int[] {3, 24}, shapes.get("model.layers.0.mlp.down_proj.lora_A.weight"));
        assertEquals(List.of("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight"), names(all, 0, 2));
        assertEquals(
                List.of(
                        "model.layers.0.self_attn.k_proj.weight",
                        "model.layers.0.self_attn.k_proj.lora_A.weight",
                        "model.layers.0.self_attn.k_proj.lora_B.weight"),
                names(all, 3, 6));
        assertEquals(List.of("model.norm.weight", "lm_head.weight"), names(all, all.size() - 2, all.size()));
        LlamaConfig tied = new LlamaConfig(31, 32, 40, 3, 4, 1, 1e-6, 500000.0, 64, 4.0, true);
        assertFalse(LlamaTensors.baseShapes(tied).containsKey(LlamaTensors.LM_HEAD), "a tied head is the embedding");
        for (LlamaTensors.Entry e : all) {
            assertEquals(e.kind(), LlamaTensors.kindOf(e.name()), e.name());
        }
        assertNull(LlamaTensors.kindOf("model.rotary_emb.inv_freq"));
    }

    @Test
    void loraPlusTrainsAdaptersEmbeddingAndNormsAndItsAdapterStoresExactlyThose() {
        LoraConfig plus = LoraConfig.longLora();
        for (LlamaTensors.Entry e : LlamaTensors.of(GQA, plus)) {
            boolean expected = e.kind() != LlamaTensors.Kind.LINEAR && e.kind() != LlamaTensors.Kind.LM_HEAD;
            assertEquals(expected, e.kind().trainable(plus), e.name());
            assertEquals(expected, LlamaTensors.inAdapter(e.name(), plus), e.name());
        }
        LoraConfig plain = LoraConfig.plainLora();
        for (LlamaTensors.Entry e : LlamaTensors.of(GQA, plain)) {
            assertEquals(LlamaTensors.isLoraFactor(e.name()), e.kind().trainable(plain), e.name());
        }
        assertTrue(LlamaTensors.Kind.LM_HEAD.trainable(LoraConfig.fullFineTuning()));
    }

    @Test
    void theModelsParametersAreTheTable() {
        LoraConfig lora = TinyModels.loraEverywhere(0);
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model = new LlamaModel(GQA, lora, backend, 1)) {
            List<Parameter> params = List.copyOf(model.parameters().all());
            List<LlamaTensors.Entry> table = LlamaTensors.of(GQA, lora);
            assertEquals(table.size(), params.size());
            for (int i = 0; i < table.size(); i++) {
                assertEquals(table.get(i).name(), params.get(i).name());
                assertArrayEquals(table.get(i).shape(), params.get(i).shape());
                assertEquals(
                        table.get(i).kind().trainable(lora),
                        params.get(i).trainable(),
                        params.get(i).name());
            }
        }
    }

    private static List<String> names(List<LlamaTensors.Entry> all, int from, int to) {
        return all.subList(from, to).stream().map(LlamaTensors.Entry::name).toList();
    }
}

package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model built for loading (no random fill of the base weights) ends up the same as a randomly built one. */
class ModelForLoadingTest {

    static final LlamaConfig CONFIG = new LlamaConfig(50, 16, 32, 2, 4, 2, 1e-5, 10000.0, 64, 1.0, false);

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private Path savedModel() {
        Path m = dir.resolve("m");
        try (LlamaModel source = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 7)) {
            ModelDirectory.save(m, CONFIG, source.parameters(), SafetensorsDtype.F32);
        }
        return m;
    }

    @Test
    void loadedWeightsLoraInitAndLossMatchTheRandomlyInitialisedPath() {
        Path m = savedModel();
        int[] tokens = {1, 5, 9, 3, 44, 2, 7, 0};
        try (LlamaModel before = new LlamaModel(CONFIG, LoraConfig.longLora(), backend, 3);
                LlamaModel after = LlamaModel.forLoading(CONFIG, LoraConfig.longLora(), backend, 3)) {
            ModelDirectory.loadWeights(m, before.parameters());
            ModelDirectory.loadWeights(m, after.parameters());
            for (Parameter p : before.parameters().all()) {
                assertArrayEquals(
                        before.parameters().values(p.name()), after.parameters().values(p.name()), p.name());
            }
            float[] a = after.parameters().values("model.layers.0.self_attn.q_proj.lora_A.weight");
            assertTrue(maxAbs(a) > 0, "LoRA A keeps its Kaiming-uniform init");
            assertEquals(0f, maxAbs(after.parameters().values("model.layers.1.self_attn.v_proj.lora_B.weight")));
            assertEquals(
                    before.loss(tokens, tokens, AttentionSpec.full()),
                    after.loss(tokens, tokens, AttentionSpec.full()));
        }
    }

    @Test
    void aModelDirectoryLackingATensorFailsNamingIt() throws Exception {
        Path broken = dir.resolve("broken");
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        try (LlamaModel source = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 7)) {
            for (Parameter p : source.parameters().all()) {
                if (!p.name().equals("model.layers.1.mlp.up_proj.weight")) {
                    tensors.put(
                            p.name(),
                            new TensorData(p.shape(), source.parameters().values(p.name())));
                }
            }
        }
        Files.createDirectories(broken);
        HfConfigJson.write(broken.resolve(HfConfigJson.FILE_NAME), CONFIG);
        SafetensorsWriter.write(
                broken.resolve(ModelDirectory.WEIGHTS_FILE),
                tensors,
                Map.of("format", "pt"),
                SafetensorsDtype.F32,
                true);
        try (LlamaModel model = LlamaModel.forLoading(CONFIG, LoraConfig.longLora(), backend, 0)) {
            FormatException e =
                    assertThrows(FormatException.class, () -> ModelDirectory.loadWeights(broken, model.parameters()));
            assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
        }
    }

    @Test
    void aModelWhoseWeightsWereNeverLoadedRefusesToRun() {
        try (LlamaModel model = LlamaModel.forLoading(CONFIG, LoraConfig.longLora(), backend, 0)) {
            model.parameters().setValues("model.embed_tokens.weight", new float[50 * 16]);
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> model.loss(new int[] {1, 2, 3}, new int[] {1, 2, 3}, AttentionSpec.full()));
            assertTrue(e.getMessage().contains("model.layers.0.input_layernorm.weight"), e.getMessage());
            assertTrue(model.parameters().awaitingLoad().contains("lm_head.weight"));
            assertTrue(
                    model.parameters().awaitingLoad().stream().noneMatch(n -> n.contains("lora_")),
                    "LoRA weights are initialised, never awaiting a load");
        }
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) m = Math.max(m, Math.abs(x));
        return m;
    }
}

package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
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

class ModelDirectoryTest {

    static final LlamaConfig CONFIG = new LlamaConfig(50, 16, 32, 2, 4, 2, 1e-5, 10000.0, 64, 2.0, false);

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void savedModelLoadsBackIdenticallyWithLoraLeftToItsInitialiser() {
        try (LlamaModel a = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 1);
                LlamaModel b = new LlamaModel(CONFIG, LoraConfig.longLora(), backend, 2)) {
            ModelDirectory.save(dir.resolve("m"), CONFIG, a.parameters(), SafetensorsDtype.F32);
            assertEquals(CONFIG, ModelDirectory.readConfig(dir.resolve("m")));
            ModelDirectory.loadWeights(dir.resolve("m"), b.parameters());
            for (Parameter p : a.parameters().all()) {
                assertArrayEquals(
                        a.parameters().values(p.name()), b.parameters().values(p.name()), p.name());
            }
            assertTrue(b.parameters().contains("model.layers.0.self_attn.q_proj.lora_A.weight"));
        }
    }

    @Test
    void bf16WeightsLoadAsTheirRoundedValues() {
        try (LlamaModel a = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 1);
                LlamaModel b = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 2)) {
            ModelDirectory.save(dir.resolve("bf"), CONFIG, a.parameters(), SafetensorsDtype.BF16);
            ModelDirectory.loadWeights(dir.resolve("bf"), b.parameters());
            float[] orig = a.parameters().values("model.embed_tokens.weight");
            float[] back = b.parameters().values("model.embed_tokens.weight");
            for (int i = 0; i < orig.length; i++) {
                assertEquals(orig[i], back[i], Math.abs(orig[i]) / 128, "bf16 keeps 8 bits of mantissa");
                assertEquals(0, Float.floatToRawIntBits(back[i]) & 0xffff, "exactly a bf16 value");
            }
        }
    }

    @Test
    void shardedCheckpointsLoadThroughTheirIndex() throws Exception {
        try (LlamaModel a = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 1);
                LlamaModel b = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 2)) {
            Path m = dir.resolve("sharded");
            Files.createDirectories(m);
            HfConfigJson.write(m.resolve("config.json"), CONFIG);
            Map<String, TensorData> first = new LinkedHashMap<>();
            Map<String, TensorData> second = new LinkedHashMap<>();
            StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
            int i = 0;
            for (Parameter p : a.parameters().all()) {
                boolean one = i++ % 2 == 0;
                (one ? first : second)
                        .put(p.name(), new TensorData(p.shape(), a.parameters().values(p.name())));
                index.append(i > 1 ? "," : "")
                        .append('"')
                        .append(p.name())
                        .append("\": \"")
                        .append(one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")
                        .append('"');
            }
            index.append("}}");
            SafetensorsWriter.write(m.resolve("model-00001-of-00002.safetensors"), first, Map.of());
            SafetensorsWriter.write(m.resolve("model-00002-of-00002.safetensors"), second, Map.of());
            Files.writeString(m.resolve(ModelDirectory.INDEX_FILE), index);
            ModelDirectory.loadWeights(m, b.parameters());
            for (Parameter p : a.parameters().all()) {
                assertArrayEquals(
                        a.parameters().values(p.name()), b.parameters().values(p.name()), p.name());
            }
            assertEquals(2, ModelDirectory.weightFiles(m).size());

            Files.writeString(
                    m.resolve(ModelDirectory.INDEX_FILE),
                    index.toString().replace("model-00002-of-00002.safetensors", "../escape.safetensors"));
            FormatException e =
                    assertThrows(FormatException.class, () -> ModelDirectory.loadWeights(m, b.parameters()));
            assertTrue(e.getMessage().contains("invalid shard file"), e.getMessage());
        }
    }

    @Test
    void missingTensorsAndMissingWeightsAreNamed() throws Exception {
        try (LlamaModel a = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 1)) {
            Path m = dir.resolve("partial");
            ModelDirectory.save(m, CONFIG, a.parameters(), SafetensorsDtype.F32);
            Map<String, TensorData> some = new LinkedHashMap<>();
            try (SafetensorsReader r = SafetensorsReader.open(m.resolve("model.safetensors"))) {
                for (String n : r.names()) if (!n.equals("lm_head.weight")) some.put(n, r.read(n));
            }
            SafetensorsWriter.write(m.resolve("model.safetensors"), some, Map.of());
            FormatException e =
                    assertThrows(FormatException.class, () -> ModelDirectory.loadWeights(m, a.parameters()));
            assertTrue(e.getMessage().contains("tensor 'lm_head.weight' is missing"), e.getMessage());
            Files.delete(m.resolve("model.safetensors"));
            e = assertThrows(FormatException.class, () -> ModelDirectory.loadWeights(m, a.parameters()));
            assertTrue(e.getMessage().contains("no model.safetensors or model.safetensors.index.json"), e.getMessage());
        }
    }
}

package dev.longlora.trainer.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelMergerTest {
    @TempDir
    Path dir;

    /** A base model directory and a nonzero adapter (LoRA on all linears, trained embedding and norms). */
    static void writeBaseAndAdapter(Path base, Path adapter, LlamaConfig config, LoraConfig lora, long seed) {
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = new LlamaModel(config, lora, backend, seed)) {
            TinyModels.randomize(m, seed + 1);
            ModelDirectory.save(base, config, m.parameters(), SafetensorsDtype.F32);
            PeftAdapter.write(adapter, m.parameters(), lora, base.toString());
        }
    }

    static LlamaModel load(Path model, Path adapter, CpuBackend backend) {
        LlamaConfig config = ModelDirectory.readConfig(model);
        LoraConfig lora = adapter == null ? LoraConfig.frozen() : PeftAdapter.readLoraConfig(adapter);
        LlamaModel m = new LlamaModel(config, lora, backend, 0);
        ModelDirectory.loadWeights(model, m.parameters());
        if (adapter != null) PeftAdapter.load(adapter, m.parameters());
        return m;
    }

    @Test
    void mergedModelComputesTheLogitsOfBasePlusAdapterAndIsAFullHfDirectory() throws Exception {
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        LlamaConfig config = TinyModels.gqaConfig(1.0);
        writeBaseAndAdapter(base, adapter, config, TinyModels.loraEverywhere(0), 11);
        Files.writeString(base.resolve("tokenizer.json"), "{\"model\": {}}");
        MergeResult r = ModelMerger.merge(
                new MergeOptions(base, adapter, out, 4096, SafetensorsDtype.F32, 256, null, false), s -> {});

        assertTrue(r.shards().size() > 1, "4 KB shards split this model: " + r.shards());
        assertEquals(List.of("tokenizer.json"), r.copiedFiles());
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        LlamaConfig merged = HfConfigJson.read(out.resolve("config.json"));
        assertEquals(4.0, merged.ropeScalingFactor(), "ceil(256 / 64)");
        assertEquals(256, merged.maxPositionEmbeddings());
        JsonNode index = new ObjectMapper()
                .readTree(out.resolve(ModelDirectory.INDEX_FILE).toFile());
        assertEquals(LlamaTensors.baseShapes(config).keySet(), fieldNames(index.get("weight_map")));
        long total = 0;
        for (String shard : r.shards()) {
            try (SafetensorsReader s = SafetensorsReader.open(out.resolve(shard))) {
                for (String n : s.names()) total += s.entry(n).byteLength();
            }
        }
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        assertFalse(Files.exists(out.resolve(ModelDirectory.WEIGHTS_FILE)), "sharded: no single-file weights");

        int[] tokens = TinyModels.tokens(40, config.vocabSize(), 3);
        int[] positions = {0, 17, 39};
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel unmerged = load(base, adapter, backend);
                LlamaModel folded = load(out, null, backend)) {
            folded.setRopeScalingFactor(1.0); // same positions as the unmerged model
            float[][] want = unmerged.logitsAt(tokens, AttentionSpec.full(), positions);
            float[][] got = folded.logitsAt(tokens, AttentionSpec.full(), positions);
            for (int i = 0; i < positions.length; i++) assertRelativeClose(want[i], got[i], 1e-5);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(
                    List.of("adapter", "base", "merged"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary directories are left behind");
        }
    }

    @Test
    void tiedEmbeddingsAndBf16AndAnExplicitFactor() throws Exception {
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        LlamaConfig config = new LlamaConfig(29, 16, 24, 1, 2, 1, 1e-6, 10000.0, 32, 1.0, true);
        writeBaseAndAdapter(base, adapter, config, LoraConfig.longLora().withRank(2, 4), 5);
        ModelMerger.merge(
                new MergeOptions(
                        base, adapter, out, MergeOptions.DEFAULT_SHARD_BYTES, SafetensorsDtype.BF16, 100, 3.0, false),
                s -> {});
        assertEquals(3.0, HfConfigJson.read(out.resolve("config.json")).ropeScalingFactor());
        assertEquals(
                "bfloat16",
                new ObjectMapper()
                        .readTree(out.resolve("config.json").toFile())
                        .get("torch_dtype")
                        .asText());
        try (SafetensorsReader s = SafetensorsReader.open(out.resolve("model-00001-of-00001.safetensors"))) {
            assertFalse(s.contains("lm_head.weight"), "tied: no separate head");
            assertEquals(
                    SafetensorsDtype.BF16, s.entry("model.embed_tokens.weight").dtype());
            try (SafetensorsReader a = SafetensorsReader.open(adapter.resolve(PeftAdapter.WEIGHTS_FILE))) {
                float[] trained = a.read(PeftAdapter.KEY_PREFIX + "model.embed_tokens.weight")
                        .values();
                float[] stored = s.read("model.embed_tokens.weight").values();
                for (int i = 0; i < trained.length; i++)
                    assertEquals(trained[i], stored[i], Math.abs(trained[i]) / 128 + 1e-30);
            }
        }
    }

    @Test
    void anExistingOutIsRefusedUntouchedOrReplacedOnlyWhenComplete() throws Exception {
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        writeBaseAndAdapter(base, adapter, TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, false),
                        s -> {}));
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("--overwrite"), e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));

        // A failing merge with --overwrite leaves the old directory as it was.
        Files.write(adapter.resolve(PeftAdapter.WEIGHTS_FILE), new byte[] {1, 2, 3});
        assertThrows(
                FormatException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, true),
                        s -> {}));
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));

        writeBaseAndAdapter(base, adapter, TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        ModelMerger.merge(
                new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, true), s -> {});
        assertFalse(Files.exists(out.resolve("keep.txt")), "replaced");
        assertTrue(Files.exists(out.resolve(ModelDirectory.INDEX_FILE)));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(3, s.count(), "no moved-aside or temporary directory remains");
        }
    }

    @Test
    void anAdapterForAnotherBaseModelFailsNamingTheTensorAndWritesNothing() {
        Path base = dir.resolve("base"),
                other = dir.resolve("other"),
                adapter = dir.resolve("adapter"),
                out = dir.resolve("merged");
        writeBaseAndAdapter(base, dir.resolve("unused"), TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        LlamaConfig wider = new LlamaConfig(23, 32, 24, 2, 4, 2, 1e-5, 10000.0, 64, 1.0, false);
        writeBaseAndAdapter(other, adapter, wider, TinyModels.loraEverywhere(0), 2);
        FormatException e = assertThrows(
                FormatException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, false),
                        s -> {}));
        assertTrue(
                e.getMessage().contains(PeftAdapter.WEIGHTS_FILE)
                        && e.getMessage().contains("has shape")
                        && e.getMessage().contains("another base model"),
                e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void truncatedOrMisshapenBaseWeightsFailNamingFileAndTensor() throws Exception {
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        writeBaseAndAdapter(base, adapter, TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        // config.json says a wider MLP than the weights hold
        String cfg = Files.readString(base.resolve("config.json"))
                .replace("\"intermediate_size\" : 24", "\"intermediate_size\" : 48");
        Files.writeString(base.resolve("config.json"), cfg);
        FormatException shape = assertThrows(
                FormatException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, false),
                        s -> {}));
        assertTrue(
                shape.getMessage().contains("model.safetensors")
                        || shape.getMessage().contains("adapter_model"),
                shape.getMessage());
        assertTrue(shape.getMessage().contains("mlp."), shape.getMessage());

        writeBaseAndAdapter(base, adapter, TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        Path weights = base.resolve(ModelDirectory.WEIGHTS_FILE);
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length - 100));
        FormatException cut = assertThrows(
                FormatException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, false),
                        s -> {}));
        assertTrue(cut.getMessage().startsWith(weights.toString()), cut.getMessage());
        assertFalse(Files.exists(out));

        Files.delete(weights);
        FormatException missing = assertThrows(
                FormatException.class,
                () -> ModelMerger.merge(
                        new MergeOptions(base, adapter, out, 1 << 20, SafetensorsDtype.F32, null, null, false),
                        s -> {}));
        assertTrue(missing.getMessage().contains("no model.safetensors"), missing.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void anAdapterNamingAnotherBaseModelWarnsButMergesWhenEveryShapeFits() throws Exception {
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter");
        writeBaseAndAdapter(base, adapter, TinyModels.gqaConfig(1.0), TinyModels.loraEverywhere(0), 2);
        Path cfg = adapter.resolve("adapter_config.json");
        Files.writeString(cfg, Files.readString(cfg).replace(base.toString(), "meta-llama/Llama-2-7b-hf"));
        List<String> log = new ArrayList<>();
        ModelMerger.merge(
                new MergeOptions(base, adapter, dir.resolve("m"), 1 << 20, SafetensorsDtype.F32, null, null, false),
                log::add);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("warning:") && l.contains("Llama-2-7b-hf")), log.toString());
        assertTrue(Files.exists(dir.resolve("m").resolve(ModelDirectory.INDEX_FILE)));
    }

    @Test
    void foldingIsWPlusScaledBA() {
        float[] w = {1, 2, 3, 4, 5, 6}; // [2, 3]
        float[] a = {1, 0, 2}; // [1, 3]
        float[] b = {3, -1}; // [2, 1]
        assertArrayEquals(
                new float[] {1 + 1.5f, 2, 3 + 3f, 4 - 0.5f, 5, 6 - 1f}, LoraFolding.fold(w, 2, 3, a, b, 1, 0.5));
    }

    @Test
    void shardSizesParse() {
        assertEquals(2L << 30, MergeOptions.parseSize("2GB"));
        assertEquals(500L << 20, MergeOptions.parseSize("500MiB"));
        assertEquals(1234, MergeOptions.parseSize("1234"));
        assertThrows(IllegalArgumentException.class, () -> MergeOptions.parseSize("lots"));
    }

    static void assertRelativeClose(float[] want, float[] got, double bound) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - got[i]) * (double) (want[i] - got[i]);
            den += want[i] * (double) want[i];
        }
        assertTrue(Math.sqrt(num / den) <= bound, "relative L2 error " + Math.sqrt(num / den) + " > " + bound);
    }

    private static java.util.Set<String> fieldNames(JsonNode o) {
        java.util.Set<String> s = new java.util.LinkedHashSet<>();
        o.fieldNames().forEachRemaining(s::add);
        return s;
    }
}

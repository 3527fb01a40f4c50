package dev.longlora.trainer.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.ParameterStore;
import dev.longlora.trainer.parameter.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An HF model directory: {@code config.json} plus the weights, either one {@code model.safetensors} or shards
 * listed in {@code model.safetensors.index.json}. Weights are memory-mapped and copied straight into the model's
 * parameters, one tensor at a time.
 */
public final class ModelDirectory {

    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private ModelDirectory() {}

    public static LlamaConfig readConfig(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new FormatException(dir, "model directory not found (expected config.json and " + WEIGHTS_FILE + ")");
        }
        return HfConfigJson.read(dir.resolve(HfConfigJson.FILE_NAME));
    }

    /**
     * Loads every base (non-LoRA) parameter of {@code store} from the directory's weights; a missing tensor, a
     * shape that differs from the config, or a non-finite value fails naming the file and tensor. Tensors the
     * model does not use (e.g. rotary caches of old checkpoints) are ignored.
     */
    public static void loadWeights(Path dir, ParameterStore store) {
        Map<String, Path> location = weightLocations(dir);
        // Shard by shard, each unmapped before the next: its pages leave the process once copied, so a sharded
        // checkpoint never sits in memory twice (mapped file + model) beyond one shard.
        Map<Path, List<Parameter>> byFile = new LinkedHashMap<>();
        for (Parameter p : store.all()) {
            if (LlamaTensors.isLoraFactor(p.name())) continue; // adapters come from an adapter directory or their init
            Path file = location.get(p.name());
            if (file == null) {
                throw new FormatException(dir, "tensor '" + p.name() + "' is missing from the model weights");
            }
            byFile.computeIfAbsent(file, f -> new ArrayList<>()).add(p);
        }
        for (Map.Entry<Path, List<Parameter>> e : byFile.entrySet()) {
            Path file = e.getKey();
            try (SafetensorsReader reader = SafetensorsReader.open(file)) {
                for (Parameter p : e.getValue()) {
                    if (!reader.contains(p.name())) {
                        throw new FormatException(
                                file, "tensor '" + p.name() + "' is listed in " + INDEX_FILE + " but missing");
                    }
                    TensorData t = reader.read(p.name(), p.shape());
                    requireFinite(file, p.name(), t.values());
                    store.setValues(p.name(), t.values());
                }
            }
        }
    }

    /** Writes config.json and model.safetensors with every base parameter (LoRA parameters are not part of a model). */
    public static void save(Path dir, LlamaConfig config, ParameterStore store, SafetensorsDtype dtype) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        HfConfigJson.write(dir.resolve(HfConfigJson.FILE_NAME), config);
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Parameter p : store.all()) {
            if (!LlamaTensors.isLoraFactor(p.name())) {
                tensors.put(p.name(), new TensorData(p.shape(), store.values(p.name())));
            }
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"), dtype, true);
    }

    static void requireFinite(Path file, String name, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new FormatException(
                        file,
                        "tensor '" + name + "' holds a non-finite value (" + values[i] + ") at flat index " + i
                                + "; the weights are corrupt");
            }
        }
    }

    /** Tensor name -> the file holding it (the single file, or the shards of the index); validates the index. */
    public static Map<String, Path> tensorLocations(Path dir) {
        return weightLocations(dir);
    }

    private static Map<String, Path> weightLocations(Path dir) {
        Path single = dir.resolve(WEIGHTS_FILE);
        Path index = dir.resolve(INDEX_FILE);
        Map<String, Path> out = new HashMap<>();
        if (Files.exists(single)) {
            try (SafetensorsReader r = SafetensorsReader.open(single)) {
                for (String n : r.names()) out.put(n, single);
            }
            return out;
        }
        if (!Files.exists(index)) {
            throw new FormatException(dir, "no " + WEIGHTS_FILE + " or " + INDEX_FILE + " in the model directory");
        }
        JsonNode map;
        try {
            map = new ObjectMapper().readTree(Files.readAllBytes(index)).path("weight_map");
        } catch (IOException e) {
            throw new FormatException(index, "not valid JSON: " + e.getMessage());
        }
        if (!map.isObject()) throw new FormatException(index, "missing object 'weight_map'");
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().asText();
            Path shardPath = dir.resolve(shard).normalize();
            if (shard.isEmpty() || !shardPath.startsWith(dir.normalize()) || shard.contains("/")) {
                throw new FormatException(
                        index, "weight_map entry '" + e.getKey() + "' names an invalid shard file '" + shard + "'");
            }
            out.put(e.getKey(), shardPath);
        }
        return out;
    }

    /** Names of the shard files a directory uses, for messages and tests. */
    public static List<Path> weightFiles(Path dir) {
        List<Path> files =
                new ArrayList<>(new java.util.TreeSet<>(weightLocations(dir).values()));
        return files;
    }
}

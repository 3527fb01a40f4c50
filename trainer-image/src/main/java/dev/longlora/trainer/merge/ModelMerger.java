package dev.longlora.trainer.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.io.AtomicDirectory;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.PeftAdapterConfig;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.io.TensorEntry;
import dev.longlora.trainer.io.TrainingRecord;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Folds a PEFT LoRA adapter (and LongLoRA's trained embedding and norms, its {@code modules_to_save}) into the base
 * weights and writes a full HF model directory: config.json with the target context's {@code rope_scaling} and
 * {@code max_position_embeddings}, sharded safetensors with {@code model.safetensors.index.json}, and the base's
 * tokenizer files. Everything is checked before anything is written; the directory is built under a temporary
 * name next to {@code out} and renamed into place only when complete, so an interrupted merge never leaves a
 * directory that looks like a model. Tensors are streamed one shard at a time from the memory-mapped inputs.
 */
public final class ModelMerger {

    /** Files of a HF model directory that describe the tokenizer and generation defaults, copied as they are. */
    public static final List<String> TOKENIZER_FILES = List.of(
            "tokenizer.json",
            "tokenizer.model",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "added_tokens.json",
            "generation_config.json");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelMerger() {}

    public static MergeResult merge(MergeOptions o, Consumer<String> log) {
        LlamaConfig base = ModelDirectory.readConfig(o.model());
        PeftAdapterConfig adapterConfig = PeftAdapter.readConfig(o.adapter());
        LoraConfig lora = PeftAdapter.readLoraConfig(o.adapter());
        Path out = o.out().toAbsolutePath().normalize();
        if (Files.exists(out) && !o.overwrite()) {
            throw new ConfigException("--out " + out + " already exists: choose a new directory or pass --overwrite "
                    + "(the old directory is replaced only once the merged one is complete)");
        }
        warnIfOtherBase(adapterConfig, o.model(), log);
        LlamaConfig merged = mergedConfig(base, withTrainingDefaults(o, log));

        Map<String, int[]> baseShapes = LlamaTensors.baseShapes(base);
        Map<String, Path> locations = ModelDirectory.tensorLocations(o.model());
        Map<Path, SafetensorsReader> readers = new HashMap<>();
        Path adapterFile = o.adapter().resolve(PeftAdapter.WEIGHTS_FILE);
        try (SafetensorsReader adapter = SafetensorsReader.open(adapterFile)) {
            checkAdapter(adapter, baseShapes, LlamaTensors.loraShapes(base, lora));
            for (Map.Entry<String, int[]> e : baseShapes.entrySet()) {
                Path file = locations.get(e.getKey());
                if (file == null) {
                    throw new FormatException(
                            o.model(), "tensor '" + e.getKey() + "' is missing from the model weights");
                }
                SafetensorsReader r = readers.computeIfAbsent(file, SafetensorsReader::open);
                TensorEntry entry = r.entry(e.getKey());
                if (!Arrays.equals(entry.intShapeOrNull(), e.getValue())) {
                    throw new FormatException(
                            file,
                            "tensor '" + e.getKey() + "' has shape " + Arrays.toString(entry.shape())
                                    + " but config.json implies " + Arrays.toString(e.getValue()));
                }
            }
            List<List<String>> shards = planShards(baseShapes, o.dtype(), o.shardBytes());
            Map<String, String> weightMap = new LinkedHashMap<>();
            List<String> shardNames = new ArrayList<>();
            long total = 0;
            for (int s = 0; s < shards.size(); s++) {
                String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
                shardNames.add(name);
                for (String t : shards.get(s)) {
                    weightMap.put(t, name);
                    total += TensorData.numel(baseShapes.get(t)) * o.dtype().byteSize();
                }
            }
            long totalBytes = total;
            List<String> copied = TOKENIZER_FILES.stream()
                    .filter(f -> Files.isRegularFile(o.model().resolve(f)))
                    .toList();
            AtomicDirectory.publish(out, tmp -> {
                for (int s = 0; s < shards.size(); s++) {
                    Map<String, TensorData> tensors = new LinkedHashMap<>();
                    for (String t : shards.get(s)) {
                        tensors.put(
                                t, mergedTensor(t, baseShapes.get(t), readers.get(locations.get(t)), adapter, lora));
                    }
                    SafetensorsWriter.write(
                            tmp.resolve(shardNames.get(s)), tensors, Map.of("format", "pt"), o.dtype(), true);
                    log.accept("wrote shard " + (s + 1) + "/" + shards.size() + " (" + tensors.size() + " tensors)");
                }
                writeIndex(tmp.resolve(ModelDirectory.INDEX_FILE), weightMap, totalBytes);
                Files.write(
                        tmp.resolve(HfConfigJson.FILE_NAME),
                        JSON.writeValueAsBytes(HfConfigJson.toJson(
                                merged, o.dtype() == SafetensorsDtype.BF16 ? "bfloat16" : "float32")));
                for (String f : copied) Files.copy(o.model().resolve(f), tmp.resolve(f));
            });
            return new MergeResult(
                    out,
                    shardNames,
                    weightMap.size(),
                    totalBytes,
                    merged.ropeScalingFactor(),
                    merged.maxPositionEmbeddings(),
                    copied);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the merged model next to " + out + ": " + e.getMessage(), e);
        } finally {
            readers.values().forEach(SafetensorsReader::close);
        }
    }

    /**
     * Without --context and --rope-factor, the adapter's {@code longlora-training.json} supplies them: a model merged
     * from an adapter trained 4k -> 32k then says rope_scaling 8 and max_position_embeddings 32768 by itself.
     */
    static MergeOptions withTrainingDefaults(MergeOptions o, Consumer<String> log) {
        if (o.contextLength() != null || o.ropeFactor() != null) return o;
        return TrainingRecord.read(o.adapter())
                .map(r -> {
                    log.accept("context " + r.targetLength() + " and PI factor " + r.ropeFactor() + " from "
                            + o.adapter().resolve(TrainingRecord.FILE_NAME) + " (--context/--rope-factor override)");
                    return new MergeOptions(
                            o.model(),
                            o.adapter(),
                            o.out(),
                            o.shardBytes(),
                            o.dtype(),
                            r.targetLength(),
                            r.ropeFactor(),
                            o.overwrite());
                })
                .orElse(o);
    }

    /** The base config with the target context's PI factor and max_position_embeddings. */
    static LlamaConfig mergedConfig(LlamaConfig base, MergeOptions o) {
        double factor = base.ropeScalingFactor();
        int positions = base.maxPositionEmbeddings();
        if (o.contextLength() != null) {
            positions = o.contextLength();
            // LongLoRA: the base's max_position_embeddings is the original length; factor = ceil(target / original).
            factor = Math.max(1.0, Math.ceil((double) o.contextLength() / base.maxPositionEmbeddings()));
        }
        if (o.ropeFactor() != null) factor = o.ropeFactor();
        return base.withRopeScalingFactor(factor).withMaxPositionEmbeddings(positions);
    }

    /** Every adapter key must name a LoRA factor or a base weight of this model with the same shape; every factor must be present. */
    static void checkAdapter(SafetensorsReader adapter, Map<String, int[]> baseShapes, Map<String, int[]> loraShapes) {
        Path file = adapter.file();
        for (String key : adapter.names()) {
            if (!key.startsWith(PeftAdapter.KEY_PREFIX)) {
                throw new FormatException(
                        file, "tensor '" + key + "' lacks PEFT's '" + PeftAdapter.KEY_PREFIX + "' prefix");
            }
            String name = key.substring(PeftAdapter.KEY_PREFIX.length());
            int[] want = loraShapes.containsKey(name) ? loraShapes.get(name) : baseShapes.get(name);
            if (want == null) {
                throw new FormatException(
                        file,
                        "tensor '" + key + "' has no matching parameter '" + name
                                + "' in the base model: is this adapter for another base model or LoRA setup?");
            }
            int[] got = adapter.entry(key).intShapeOrNull();
            if (!Arrays.equals(got, want)) {
                throw new FormatException(
                        file,
                        "tensor '" + key + "' has shape "
                                + Arrays.toString(adapter.entry(key).shape())
                                + " but the base model's " + name + " needs " + Arrays.toString(want)
                                + ": is this adapter for another base model?");
            }
        }
        for (String name : loraShapes.keySet()) {
            if (!adapter.contains(PeftAdapter.KEY_PREFIX + name)) {
                throw new FormatException(
                        file,
                        "tensor '" + PeftAdapter.KEY_PREFIX + name
                                + "' is missing (adapter_config.json lists its module in target_modules)");
            }
        }
    }

    private static TensorData mergedTensor(
            String name, int[] shape, SafetensorsReader baseReader, SafetensorsReader adapter, LoraConfig lora) {
        String saved = PeftAdapter.KEY_PREFIX + name;
        // A trained embedding or norm (modules_to_save) replaces the base weight outright.
        TensorData t = adapter.contains(saved) ? adapter.read(saved, shape) : baseReader.read(name, shape);
        String a = PeftAdapter.KEY_PREFIX + LlamaTensors.loraA(name);
        if (adapter.contains(a)) {
            float[] av = adapter.read(a).values();
            float[] bv = adapter.read(PeftAdapter.KEY_PREFIX + LlamaTensors.loraB(name))
                    .values();
            LoraFolding.fold(t.values(), shape[0], shape[1], av, bv, lora.rank(), lora.scaling());
        }
        Path from = adapter.contains(saved) || adapter.contains(a) ? adapter.file() : baseReader.file();
        for (int i = 0; i < t.values().length; i++) {
            if (!Float.isFinite(t.values()[i])) {
                throw new FormatException(
                        from,
                        "tensor '" + name + "' is non-finite (" + t.values()[i] + ") at flat index " + i
                                + " after merging; the weights or the adapter are corrupt");
            }
        }
        return t;
    }

    /** Consecutive tensors, in model order, packed into shards of at most {@code limit} bytes (a bigger tensor alone). */
    static List<List<String>> planShards(Map<String, int[]> shapes, SafetensorsDtype dtype, long limit) {
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            long size = TensorData.numel(e.getValue()) * dtype.byteSize();
            if (!current.isEmpty() && bytes + size > limit) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(e.getKey());
            bytes += size;
        }
        if (!current.isEmpty()) shards.add(current);
        return shards;
    }

    private static void writeIndex(Path file, Map<String, String> weightMap, long totalSize) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        Files.write(file, JSON.writeValueAsBytes(root));
    }

    private static void warnIfOtherBase(PeftAdapterConfig c, Path model, Consumer<String> log) {
        String named = c.baseModelNameOrPath();
        if (named == null || named.isBlank()) return;
        String last = Path.of(named).getFileName() == null
                ? named
                : Path.of(named).getFileName().toString();
        Path modelName = model.toAbsolutePath().normalize().getFileName();
        if (modelName != null && !last.equals(modelName.toString()) && !named.startsWith("builtin:")) {
            log.accept("warning: " + model + ": the adapter names base model '" + named
                    + "' (base_model_name_or_path); every tensor shape matches, merging anyway");
        }
    }
}

package dev.longlora.trainer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.ParameterStore;
import dev.longlora.trainer.parameter.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LoRA adapter in PEFT's layout: {@code adapter_config.json} + {@code adapter_model.safetensors}. Keys carry
 * PEFT's prefix {@code base_model.model.} before the HF name, with the adapter name removed, e.g.
 * {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}; trainable embedding and norms
 * ({@code modules_to_save}) are stored under their plain HF name behind the same prefix, as PEFT's
 * {@code get_peft_model_state_dict} writes them.
 */
public final class PeftAdapter {

    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String KEY_PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftAdapter() {}

    /** The adapter's tensors from the store, under PEFT keys. */
    public static Map<String, TensorData> collect(ParameterStore store, LoraConfig lora) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Parameter p : store.all()) {
            if (LlamaTensors.inAdapter(p.name(), lora)) {
                out.put(KEY_PREFIX + p.name(), new TensorData(p.shape(), store.values(p.name())));
            }
        }
        return out;
    }

    /** Writes the adapter into {@code dir} (created if needed). */
    public static void write(Path dir, ParameterStore store, LoraConfig lora, String baseModel) {
        try {
            Files.createDirectories(dir);
            Files.write(
                    dir.resolve(PeftAdapterConfig.FILE_NAME),
                    JSON.writeValueAsBytes(PeftAdapterConfig.of(lora, baseModel)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write adapter to " + dir + ": " + e.getMessage(), e);
        }
        SafetensorsWriter.write(
                dir.resolve(WEIGHTS_FILE), collect(store, lora), Map.of("format", "pt"), SafetensorsDtype.F32, true);
    }

    /** Reads {@code adapter_config.json} of the adapter in {@code dir}. */
    public static PeftAdapterConfig readConfig(Path dir) {
        Path file = dir.resolve(PeftAdapterConfig.FILE_NAME);
        try {
            return JSON.readValue(Files.readAllBytes(file), PeftAdapterConfig.class);
        } catch (NoSuchFileException e) {
            throw new FormatException(
                    file,
                    "file not found (a PEFT adapter directory holds adapter_config.json and " + WEIGHTS_FILE + ")");
        } catch (IOException e) {
            throw new FormatException(file, "not a valid PEFT adapter config: " + e.getMessage());
        }
    }

    /** The LoRA setup of the adapter in {@code dir}, validated. */
    public static LoraConfig readLoraConfig(Path dir) {
        try {
            return readConfig(dir).toLoraConfig();
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir.resolve(PeftAdapterConfig.FILE_NAME), e.getMessage());
        }
    }

    /**
     * Loads the adapter weights of {@code dir} into a model built with the adapter's {@link LoraConfig}. Every
     * key must name a parameter of the model with the same shape (an adapter for another base model fails here,
     * naming the tensor), and every LoRA parameter of the model must be present.
     */
    public static void load(Path dir, ParameterStore store) {
        Path file = dir.resolve(WEIGHTS_FILE);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String key : reader.names()) {
                if (!key.startsWith(KEY_PREFIX)) {
                    throw new FormatException(file, "tensor '" + key + "' lacks PEFT's '" + KEY_PREFIX + "' prefix");
                }
                String name = key.substring(KEY_PREFIX.length());
                if (!store.contains(name)) {
                    throw new FormatException(
                            file,
                            "tensor '" + key + "' has no matching parameter '" + name
                                    + "' in the model: is this adapter for another base model or LoRA setup?");
                }
                Parameter p = store.get(name);
                TensorEntry e = reader.entry(key);
                if (!Arrays.equals(e.intShapeOrNull(), p.shape())) {
                    throw new FormatException(
                            file,
                            "tensor '" + key + "' has shape " + Arrays.toString(e.shape())
                                    + " but the model's " + name + " is " + Arrays.toString(p.shape())
                                    + ": is this adapter for another base model?");
                }
                store.setValues(name, reader.read(key).values());
            }
            for (Parameter p : store.all()) {
                if (LlamaTensors.isLoraFactor(p.name()) && !reader.contains(KEY_PREFIX + p.name())) {
                    throw new FormatException(file, "tensor '" + KEY_PREFIX + p.name() + "' is missing");
                }
            }
        }
    }
}

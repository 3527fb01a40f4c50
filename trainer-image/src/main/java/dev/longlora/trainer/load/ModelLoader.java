package dev.longlora.trainer.load;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.nio.file.Path;

/**
 * Builds a model from a model directory (or a built-in model) and an optional PEFT adapter. The adapter's
 * {@code adapter_config.json} decides the LoRA setup; without an adapter the caller's default applies and the
 * LoRA weights take their initial values (A Kaiming-uniform from the seed, B zero).
 */
public final class ModelLoader {
    private ModelLoader() {}

    public static LlamaModel load(
            String modelPath, Path adapterDir, LoraConfig defaultLora, Backend backend, long seed) {
        LlamaConfig config = BuiltinModels.isBuiltin(modelPath)
                ? BuiltinModels.config(modelPath)
                : ModelDirectory.readConfig(Path.of(modelPath));
        LoraConfig lora = adapterDir != null ? PeftAdapter.readLoraConfig(adapterDir) : defaultLora;
        // Every base weight is overwritten below, so it is not random-filled first (seconds on a real model).
        LlamaModel model = LlamaModel.forLoading(config, lora, backend, seed);
        try {
            if (BuiltinModels.isBuiltin(modelPath)) {
                copyBuiltinWeights(model, config, backend);
            } else {
                ModelDirectory.loadWeights(Path.of(modelPath), model.parameters());
            }
            if (adapterDir != null) PeftAdapter.load(adapterDir, model.parameters());
            model.parameters().requireLoaded();
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The built-in model's weights are those of a fresh model from the fixed built-in seed. */
    private static void copyBuiltinWeights(LlamaModel model, LlamaConfig config, Backend backend) {
        try (LlamaModel reference = new LlamaModel(config, LoraConfig.frozen(), backend, BuiltinModels.WEIGHT_SEED)) {
            for (Parameter p : reference.parameters().all()) {
                model.parameters().setValues(p.name(), reference.parameters().values(p.name()));
            }
        }
    }
}

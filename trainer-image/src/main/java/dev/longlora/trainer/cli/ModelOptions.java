package dev.longlora.trainer.cli;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cuda.BackendSelector;
import dev.longlora.trainer.io.TrainingRecord;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the model comes from and how it runs: {@code --model DIR|builtin:tiny [--adapter DIR] [--rope-factor F]
 * [--threads N] [--backend cpu|cuda]}.
 */
final class ModelOptions {
    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "HF model directory (config.json + model.safetensors) or builtin:tiny")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory to apply")
    Path adapter;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--backend",
            paramLabel = "cpu|cuda",
            description = "compute backend (default: $LONGLORA_BACKEND, else cpu)")
    String backend;

    @Option(
            names = "--rope-factor",
            paramLabel = "F",
            description = "linear PI factor (default: with --adapter, the factor it was trained at, from its"
                    + " longlora-training.json; else the model's rope_scaling)")
    Double ropeFactor;

    Backend openBackend() {
        return BackendSelector.open(backend, threads);
    }

    /**
     * Loads the model (and adapter, whose config beats {@code defaultLora}) and applies {@code --rope-factor}, or the
     * factor the adapter was trained at: an adapter trained 4k -> 32k is meant to run at PI factor 8, and a base
     * model's config does not say so.
     */
    LlamaModel load(LoraConfig defaultLora, Backend onBackend, long seed) {
        Double factor = ropeFactor != null
                ? ropeFactor
                : adapter == null
                        ? null
                        : TrainingRecord.read(adapter)
                                .map(TrainingRecord::ropeFactor)
                                .orElse(null);
        LlamaModel m = ModelLoader.load(model, adapter, defaultLora, onBackend, seed);
        if (factor != null) {
            try {
                m.setRopeScalingFactor(factor);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }
        return m;
    }
}

package dev.longlora.trainer.cli;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.cuda.BackendSelector;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the model comes from: {@code --model DIR|builtin:tiny [--adapter DIR] [--threads N] [--backend cpu|cuda]}. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "HF model directory (config.json + model.safetensors) or builtin:tiny")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory to apply")
    Path adapter;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--backend", paramLabel = "cpu|cuda", description = "compute backend (default: $LONGLORA_BACKEND, else cpu)")
    String backend;

    Backend openBackend() {
        return BackendSelector.open(backend, threads);
    }
}

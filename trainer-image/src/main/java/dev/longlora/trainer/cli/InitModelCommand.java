package dev.longlora.trainer.cli;

import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.load.BuiltinModels;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code longlora init-model}: a randomly initialised HF model directory (tests, experiments). */
@Command(
        name = "init-model",
        mixinStandardHelpOptions = true,
        description = "Writes a randomly initialised LLaMA model directory (config.json + model.safetensors).")
final class InitModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config-json", paramLabel = "FILE", description = "HF config.json to take the shape from")
    Path configJson;

    @Option(
            names = "--preset",
            paramLabel = "NAME",
            description = "a built-in shape instead of --config-json: builtin:tiny")
    String preset;

    @Option(names = "--rope-factor", paramLabel = "F", description = "write rope_scaling linear with this factor")
    Double ropeFactor;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "model directory to create")
    Path out;

    @Option(names = "--seed", description = "seed of the weights (default ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--dtype", paramLabel = "f32|bf16", description = "stored dtype (default ${DEFAULT-VALUE})")
    String dtype = "f32";

    @Override
    public Integer call() {
        if ((configJson == null) == (preset == null)) {
            throw new ConfigException("give exactly one of --config-json FILE or --preset builtin:tiny");
        }
        LlamaConfig config = configJson != null ? HfConfigJson.read(configJson) : BuiltinModels.config(preset);
        if (ropeFactor != null) config = config.withRopeScalingFactor(ropeFactor);
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = new LlamaModel(config, LoraConfig.frozen(), backend, seed)) {
            ModelDirectory.save(out, config, m.parameters(), SafetensorsDtype.parseUserName(dtype));
        }
        spec.commandLine().getOut().println("wrote " + out);
        return ExitCode.OK.code();
    }
}

package dev.longlora.trainer.cli;

import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.ParameterStore;
import dev.longlora.trainer.parameter.Parameter;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code longlora init-adapter}: a PEFT adapter for a model, freshly initialised, optionally with Gaussian noise
 * on every adapter weight (so LoRA B is nonzero: what gradient checks against a reference need).
 */
@Command(
        name = "init-adapter",
        mixinStandardHelpOptions = true,
        description =
                "Writes a LoRA adapter (PEFT layout) for --model; --noise adds N(0, std^2) to every adapter weight.")
final class InitAdapterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "HF model directory or builtin:tiny")
    String model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "adapter directory to create")
    Path out;

    @Option(names = "--rank", description = "LoRA rank (default ${DEFAULT-VALUE})")
    int rank = 8;

    @Option(names = "--alpha", description = "LoRA alpha (default ${DEFAULT-VALUE})")
    double alpha = 16;

    @Option(names = "--targets", split = ",", description = "target modules (default q_proj,k_proj,v_proj,o_proj)")
    List<String> targets = LoraConfig.ATTENTION_MODULES;

    @Option(names = "--no-embeddings", description = "do not train the token embedding")
    boolean noEmbeddings;

    @Option(names = "--no-norms", description = "do not train the norms")
    boolean noNorms;

    @Option(
            names = "--noise",
            paramLabel = "STD",
            description = "std of Gaussian noise added to every adapter weight (default 0)")
    double noise;

    @Option(names = "--seed", description = "seed (default ${DEFAULT-VALUE})")
    long seed = 0;

    @Override
    public Integer call() {
        LoraConfig lora = new LoraConfig(rank, alpha, 0.0, targets, !noEmbeddings, !noNorms, false).validate();
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = ModelLoader.load(model, null, lora, backend, seed)) {
            ParameterStore store = m.parameters();
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
            if (noise > 0) {
                for (Parameter p : store.all()) {
                    if (!LlamaTensors.inAdapter(p.name(), lora)) continue;
                    float[] v = store.values(p.name());
                    for (int i = 0; i < v.length; i++) v[i] += (float) (noise * rnd.nextGaussian());
                    store.setValues(p.name(), v);
                }
            }
            PeftAdapter.write(out, store, lora, model);
        }
        spec.commandLine().getOut().println("wrote " + out);
        return ExitCode.OK.code();
    }
}

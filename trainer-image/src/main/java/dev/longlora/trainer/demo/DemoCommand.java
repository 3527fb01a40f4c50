package dev.longlora.trainer.demo;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code longlora demo}: LongLoRA's story in miniature on the CPU, in a few minutes. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Pretrains a tiny LLaMA at a short context on a generated corpus with long-range dependencies, extends it 4x "
                    + "with position interpolation, fine-tunes it with LongLoRA and with the paper's ablations, and compares "
                    + "perplexity and passkey retrieval at the long context. CPU only; no cluster, GPU or nvcc."
        })
public final class DemoCommand implements Callable<Integer> {
    @Option(
            names = "--out",
            paramLabel = "FILE",
            description = "where to write the results table (Markdown); default: ${DEFAULT-VALUE}")
    Path out = Path.of("demo-results.md");

    @Option(names = "--quick", description = "a much smaller run (seconds) that checks the pipeline, not the effect")
    boolean quick;

    @Option(
            names = "--seed",
            description = "seed of the corpus, the initial weights and the data order; default: ${DEFAULT-VALUE}")
    long seed = 1234;

    @Option(names = "--threads", description = "CPU threads for the backend; default: all cores (${DEFAULT-VALUE})")
    int threads = Runtime.getRuntime().availableProcessors();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (threads < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--threads must be at least 1, got " + threads);
        }
        DemoPlan plan = quick ? DemoPlan.quick() : DemoPlan.full();
        return new DemoRunner(plan, seed, threads, out, System.out).run();
    }
}

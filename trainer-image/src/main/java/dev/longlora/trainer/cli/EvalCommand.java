package dev.longlora.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.data.EvalWindows;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.eval.PerplexityEvaluator;
import dev.longlora.trainer.eval.PerplexityResult;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code longlora eval}: perplexity over a token file with LongLoRA's windows. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Mean next-token loss and perplexity over windows of --seq-len tokens starting every --stride "
                + "tokens (LongLoRA's protocol); full attention unless --attn says otherwise.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelWindowOptions run;

    @Option(
            names = "--stride",
            paramLabel = "N",
            description = "distance between window starts (default ${DEFAULT-VALUE})")
    int stride = EvalWindows.DEFAULT_STRIDE;

    @Option(names = "--json", description = "print one JSON object (loss, ppl, windows, ...)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        int seqLen = run.seqLen;
        AttentionSpec attn = run.attentionForWindow("full");
        try (Backend backend = run.model.openBackend();
                LlamaModel m = run.model.load(LoraConfig.frozen(), backend, 0);
                TokenSource source = run.tokens.open(run.model.model)) {
            PerplexityResult r;
            long windows = EvalWindows.count(source.length(), seqLen, stride);
            if (System.console() != null && System.console().isTerminal() && windows > 1) {
                // A bar on stderr for long evaluations; stdout keeps only the result (scripts parse it).
                try (ProgressBar bar = new ProgressBarBuilder()
                        .setTaskName("eval")
                        .setInitialMax(windows)
                        .setUnit(" windows", 1)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .build()) {
                    r = PerplexityEvaluator.evaluate(m, source, seqLen, attn, stride, bar::stepTo);
                }
            } else {
                // Logs (a pod's, a CI job's) get a line about every 10% of the windows instead of a bar.
                var err = spec.commandLine().getErr();
                long every = Math.max(1, windows / 10);
                long started = System.nanoTime();
                r = PerplexityEvaluator.evaluate(m, source, seqLen, attn, stride, done -> {
                    if (windows < 20 || (done % every != 0 && done != windows)) return;
                    double elapsed = (System.nanoTime() - started) / 1e9;
                    err.printf(
                            Locale.ROOT,
                            "eval %d/%d windows  %.0f s  eta %.0f s%n",
                            done,
                            windows,
                            elapsed,
                            elapsed / done * (windows - done));
                    err.flush();
                });
            }
            var out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.put("loss", r.loss());
                o.put("ppl", r.ppl());
                o.put("windows", r.windows());
                o.put("seqLen", r.seqLen());
                o.put("stride", r.stride());
                o.put("attention", r.attention());
                o.put("ropeFactor", r.ropeFactor());
                o.put("tokens", r.tokens());
                o.put("model", run.model.model);
                o.put("adapter", run.model.adapter == null ? null : run.model.adapter.toString());
                o.put("seconds", (System.nanoTime() - t0) / 1e9);
                out.println(o);
            } else {
                out.printf(
                        Locale.ROOT,
                        "loss %.6f  ppl %.4f  windows %d  (seq-len %d, stride %d, %s attention, rope factor %s)%n",
                        r.loss(),
                        r.ppl(),
                        r.windows(),
                        r.seqLen(),
                        r.stride(),
                        r.attention(),
                        r.ropeFactor());
            }
            out.flush();
        }
        return ExitCode.OK.code();
    }
}

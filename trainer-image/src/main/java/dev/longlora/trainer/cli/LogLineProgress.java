package dev.longlora.trainer.cli;

import dev.longlora.contract.ProgressPhase;
import dev.longlora.trainer.train.ProgressSink;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** One plain line every N steps: what pod logs and non-terminal runs get instead of a redrawn bar. */
final class LogLineProgress implements ProgressSink {
    private final PrintWriter out;
    private final int every;

    LogLineProgress(PrintWriter out, int every) {
        this.out = out;
        this.every = Math.max(1, every);
    }

    @Override
    public void phase(ProgressPhase phase) {
        out.println("phase " + phase.json());
        out.flush();
    }

    @Override
    public void start(long firstStep, long totalSteps) {
        out.printf(Locale.ROOT, "training steps %d..%d%n", firstStep + 1, totalSteps);
        out.flush();
    }

    @Override
    public void step(StepProgress p) {
        if (p.step() % every != 0 && p.step() != p.totalSteps()) return;
        out.printf(
                Locale.ROOT,
                "step %d/%d loss %.6f lr %.3e grad-norm %.4f tok/s %.1f eta %s%n",
                p.step(),
                p.totalSteps(),
                p.loss(),
                p.learningRate(),
                p.gradNorm(),
                p.tokensPerSecond(),
                p.etaSeconds() < 0 ? "?" : p.etaSeconds() + "s");
        out.flush();
    }

    @Override
    public void checkpoint(long step, Path path) {
        out.println("checkpoint step " + step + " -> " + path);
        out.flush();
    }

    @Override
    public void finish() {
        out.flush();
    }
}

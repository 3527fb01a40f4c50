package dev.longlora.trainer.cli;

import dev.longlora.trainer.train.ProgressSink;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** An interactive progress bar on the terminal: step, loss, tokens/s and ETA. */
final class ConsoleProgressBar implements ProgressSink {
    private final PrintStream stream;
    private ProgressBar bar;

    ConsoleProgressBar(PrintStream stream) {
        this.stream = stream;
    }

    @Override
    public void start(long firstStep, long totalSteps) {
        bar = new ProgressBarBuilder()
                .setTaskName("train")
                .setInitialMax(totalSteps)
                .startsFrom(firstStep, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" steps", 1)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(stream))
                .build();
    }

    @Override
    public void step(StepProgress p) {
        bar.stepTo(p.step());
        bar.setExtraMessage(String.format(
                Locale.ROOT, " loss %.4f | %.0f tok/s | lr %.2e", p.loss(), p.tokensPerSecond(), p.learningRate()));
    }

    @Override
    public void checkpoint(long step, Path path) {
        bar.setExtraMessage(" saved " + path.getFileName());
    }

    @Override
    public void finish() {
        close();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}

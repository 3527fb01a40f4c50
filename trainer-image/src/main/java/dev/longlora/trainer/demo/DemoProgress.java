package dev.longlora.trainer.demo;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Plain progress lines (they read the same in a terminal and in a log): the phase, the step, the loss, the speed,
 * and an estimate of the time left for the phase and for the whole demo, from the FLOPs planned by
 * {@link CostModel} and the FLOP rate measured so far.
 */
final class DemoProgress {
    private static final long PRINT_EVERY_NANOS = 3_000_000_000L;
    private static final double SETTLE_SECONDS = 5;

    private final PrintStream out;
    private final long start = System.nanoTime();
    private double totalFlops;
    private double doneFlops;
    private long lastPrint;
    private long phaseStart;
    private long phaseTokens;

    DemoProgress(PrintStream out, double totalFlops) {
        this.out = out;
        this.totalFlops = totalFlops;
    }

    void phase(String title) {
        out.printf(Locale.ROOT, "%n[%s] %s%n", clock(seconds()), title);
        out.flush();
        phaseStart = System.nanoTime();
        phaseTokens = 0;
        lastPrint = 0;
    }

    void info(String line) {
        out.println("  " + line);
        out.flush();
    }

    /** One optimizer step done. */
    void step(int step, int steps, double loss, long tokens, double flops) {
        doneFlops += flops;
        phaseTokens += tokens;
        long now = System.nanoTime();
        if (step == 1 || step == steps || now - lastPrint >= PRINT_EVERY_NANOS) {
            lastPrint = now;
            double phaseSeconds = (now - phaseStart) / 1e9;
            double phaseLeft = phaseSeconds / step * (steps - step);
            // The first seconds are JIT warm-up: an estimate from them would be minutes too long.
            boolean settled = seconds() >= SETTLE_SECONDS;
            out.printf(
                    Locale.ROOT,
                    "  step %4d/%d  loss %.4f  %6.0f tok/s  phase left %s  demo left %s%n",
                    step,
                    steps,
                    loss,
                    phaseTokens / Math.max(phaseSeconds, 1e-9),
                    settled ? clock(phaseLeft) : "...",
                    settled ? "~" + clock(demoLeft()) : "...");
            out.flush();
        }
    }

    /** Work done outside training steps (evaluation). */
    void work(double flops) {
        doneFlops += flops;
    }

    double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    private double demoLeft() {
        double rate = doneFlops / Math.max(seconds(), 1e-9);
        return rate > 0 ? Math.max(0, totalFlops - doneFlops) / rate : 0;
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}

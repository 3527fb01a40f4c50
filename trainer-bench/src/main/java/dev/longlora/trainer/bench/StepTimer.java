package dev.longlora.trainer.bench;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

/**
 * Times one training step the same way in every step benchmark: {@code warmup} untimed rounds (JIT, caches, device
 * memory pools), then {@code steps} timed ones, each between two {@code barrier} calls (a device synchronize on a
 * GPU, nothing on the CPU) so queued work is counted in its own step.
 */
final class StepTimer {
    /** Seconds of each timed step, sorted, and the loss of the last step. */
    record Times(double[] sortedSeconds, double lastLoss) {
        double best() {
            return sortedSeconds[0];
        }

        double median() {
            return sortedSeconds[sortedSeconds.length / 2];
        }
    }

    private StepTimer() {}

    /** {@code warmedUp} runs once, right before the first timed step (e.g. to reset peak-memory counters). */
    static Times time(int warmup, int steps, Runnable warmedUp, Runnable barrier, DoubleSupplier step) {
        double[] times = new double[steps];
        double loss = Double.NaN;
        for (int i = 0; i < warmup + steps; i++) {
            if (i == warmup) warmedUp.run();
            barrier.run();
            long t0 = System.nanoTime();
            loss = step.getAsDouble();
            barrier.run();
            if (i >= warmup) times[i - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(times);
        return new Times(times, loss);
    }
}

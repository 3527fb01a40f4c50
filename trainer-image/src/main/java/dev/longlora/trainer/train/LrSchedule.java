package dev.longlora.trainer.train;

/**
 * Learning rate as a function of the optimizer step (0-based: the rate used for the first update is at(0)).
 */
public interface LrSchedule {

    /** The learning rate for update number {@code step} (0-based). */
    double at(long step);

    /**
     * LongLoRA's schedule (HF {@code constant_with_warmup}): linear ramp from 0 over {@code warmup} steps, then
     * constant: lr * min(1, step / warmup).
     */
    static LrSchedule constantWithWarmup(double lr, long warmup) {
        check(lr, warmup, 1);
        return step -> warmup > 0 && step < warmup ? lr * step / warmup : lr;
    }

    /** HF {@code cosine}: linear warmup, then half a cosine from lr down to 0 at {@code totalSteps}. */
    static LrSchedule cosine(double lr, long warmup, long totalSteps) {
        check(lr, warmup, totalSteps);
        return step -> {
            if (step < warmup) {
                return lr * step / warmup;
            }
            double progress = (double) (step - warmup) / Math.max(1, totalSteps - warmup);
            return lr * 0.5 * (1 + StrictMath.cos(Math.PI * Math.min(1.0, progress)));
        };
    }

    /** By name as in the job config: {@code constant_with_warmup} or {@code cosine}. */
    static LrSchedule of(String name, double lr, long warmup, long totalSteps) {
        return switch (name) {
            case "constant_with_warmup" -> constantWithWarmup(lr, warmup);
            case "cosine" -> cosine(lr, warmup, totalSteps);
            default ->
                throw new IllegalArgumentException(
                        "training.schedule '" + name + "' is unknown: use constant_with_warmup or cosine");
        };
    }

    private static void check(double lr, long warmup, long total) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("training.learningRate=" + lr + " must be a positive number");
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("training.warmupSteps=" + warmup + " must be >= 0");
        }
        if (total < 1) {
            throw new IllegalArgumentException("training.maxSteps=" + total + " must be >= 1");
        }
    }
}

package dev.longlora.trainer.train;

/**
 * Where training progress goes: the console now; rank 0's pod annotation (docs/contract.md section 6) plugs in
 * here later. Calls come from the training thread, in order: start, step/checkpoint..., finish.
 */
public interface ProgressSink extends AutoCloseable {

    /** One optimizer step's numbers; {@code etaSeconds} is -1 until it can be estimated. */
    record StepProgress(
            long step,
            long totalSteps,
            double loss,
            double learningRate,
            double tokensPerSecond,
            long etaSeconds,
            double gradNorm) {}

    void start(long firstStep, long totalSteps);

    void step(StepProgress progress);

    void checkpoint(long step, java.nio.file.Path path);

    void finish();

    @Override
    default void close() {}

    /** Discards everything (tests). */
    static ProgressSink none() {
        return new ProgressSink() {
            public void start(long firstStep, long totalSteps) {}

            public void step(StepProgress progress) {}

            public void checkpoint(long step, java.nio.file.Path path) {}

            public void finish() {}
        };
    }
}

package dev.longlora.trainer.train;

import dev.longlora.contract.ProgressPhase;
import java.util.List;

/**
 * Where training progress goes: the console, and in a pod rank 0's progress annotation (docs/contract.md section 6,
 * {@code progress.AnnotationProgressSink}). Calls come from the training thread, in order: phase(loading), start,
 * step/checkpoint..., finish, then the phases of what follows training.
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

    /** What rank 0 does from now on (loading, training, checkpointing, merging, evaluating, done). */
    default void phase(ProgressPhase phase) {}

    void start(long firstStep, long totalSteps);

    void step(StepProgress progress);

    void checkpoint(long step, java.nio.file.Path path);

    void finish();

    @Override
    default void close() {}

    /** Every call to each of {@code sinks}, in order (the console and the annotation); close closes them all. */
    static ProgressSink tee(List<ProgressSink> sinks) {
        return new ProgressSink() {
            public void phase(ProgressPhase phase) {
                sinks.forEach(s -> s.phase(phase));
            }

            public void start(long firstStep, long totalSteps) {
                sinks.forEach(s -> s.start(firstStep, totalSteps));
            }

            public void step(StepProgress progress) {
                sinks.forEach(s -> s.step(progress));
            }

            public void checkpoint(long step, java.nio.file.Path path) {
                sinks.forEach(s -> s.checkpoint(step, path));
            }

            public void finish() {
                sinks.forEach(ProgressSink::finish);
            }

            @Override
            public void close() {
                sinks.forEach(ProgressSink::close);
            }
        };
    }

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

package dev.longlora.trainer.progress;

import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.ProgressReport;
import dev.longlora.trainer.train.ProgressSink;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * Rank 0's report to the operator (docs/contract.md section 6): every call turns into the newest {@link
 * ProgressReport} handed to a {@link ProgressPublisher}, urgent at checkpoints, phase changes and the end. Calls come
 * from the training thread and return at once.
 */
public final class AnnotationProgressSink implements ProgressSink {
    /** The most the end of a run waits for its final report to reach the API server. */
    public static final Duration FINAL_FLUSH = Duration.ofSeconds(5);

    private final ProgressPublisher publisher;
    private final AutoCloseable resources;
    private final Clock clock;
    private ProgressReport current;

    /** {@code resources} (the API client) is closed after the final flush. */
    public AnnotationProgressSink(ProgressPublisher publisher, AutoCloseable resources, Clock clock) {
        this.publisher = publisher;
        this.resources = resources;
        this.clock = clock;
        this.current = new ProgressReport(null, null, null, null, null, null, null, null, null);
    }

    @Override
    public void phase(ProgressPhase phase) {
        if (phase == current.phase()) return;
        current = current.at(phase, clock.instant());
        publisher.offer(current, true);
    }

    /**
     * Only the run's length: {@code step} stays absent until this process finishes a step (a resumed step is not
     * one), so the operator's startup deadline covers loading and resuming (docs/contract.md section 6).
     */
    @Override
    public void start(long firstStep, long totalSteps) {
        current = new ProgressReport(
                        null, totalSteps, null, null, null, null, null, current.lastCheckpoint(), current.phase())
                .at(current.phase(), clock.instant());
        publisher.offer(current, false);
    }

    @Override
    public void step(StepProgress p) {
        current = ProgressReport.of(
                p.step(),
                p.totalSteps(),
                p.loss(),
                p.learningRate(),
                p.tokensPerSecond(),
                p.etaSeconds(),
                current.phase(),
                clock.instant(),
                current.lastCheckpoint());
        publisher.offer(current, false);
    }

    @Override
    public void checkpoint(long step, Path path) {
        current = current.withCheckpoint(ProgressReport.LastCheckpoint.of(step, path.toString(), clock.instant()))
                .at(current.phase(), clock.instant());
        publisher.offer(current, true);
    }

    @Override
    public void finish() {
        current = current.at(current.phase(), clock.instant());
        publisher.offer(current, true);
    }

    /** Flushes the final report (bounded by {@link #FINAL_FLUSH}), then closes the client. */
    @Override
    public void close() {
        publisher.close(FINAL_FLUSH);
        try {
            resources.close();
        } catch (Exception e) {
            // the report is out or given up on; a client that will not close cleanly changes nothing for the job
        }
    }
}

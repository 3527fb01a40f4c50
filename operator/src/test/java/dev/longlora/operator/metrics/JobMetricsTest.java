package dev.longlora.operator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.api.TrainingProgress;
import dev.longlora.operator.api.WorkerCounts;
import dev.longlora.operator.topology.TestJobs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobMetricsTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final JobMetrics metrics = new JobMetrics(registry);

    static LongLoRAJobStatus running(long step, Integer restarts) {
        return new LongLoRAJobStatus(
                JobPhase.Running,
                List.of(),
                1L,
                new WorkerCounts(2, 2, 0),
                restarts,
                0,
                null,
                null,
                "running",
                null,
                new TrainingProgress(
                        step, 1000L, 2.31, 2e-5, 5120.0, 8800L, "2026-12-02T10:00:00Z", "checkpointing", null),
                null,
                null);
    }

    double gauge(String name, String job) {
        return registry.get(name).tag("namespace", "ml").tag("job", job).gauge().value();
    }

    @Test
    void aJobsGaugesFollowItsLatestStatus() {
        metrics.observe("ml", "llama", running(120, 1));
        assertEquals(120, gauge("longlora.job.step", "llama"));
        assertEquals(1000, gauge("longlora.job.total.steps", "llama"));
        assertEquals(5120, gauge("longlora.job.tokens.per.second", "llama"));
        assertEquals(8800, gauge("longlora.job.eta.seconds", "llama"));
        assertEquals(10.0, gauge("longlora.job.step.seconds", "llama"), 1e-9, "8800 s over 880 steps left");
        assertEquals(1, gauge("longlora.job.gang.restarts", "llama"));
        assertEquals(
                1.0,
                registry.get("longlora.job.phase")
                        .tag("job", "llama")
                        .tag("phase", "Running")
                        .gauge()
                        .value());
        assertEquals(
                0.0,
                registry.get("longlora.job.phase")
                        .tag("job", "llama")
                        .tag("phase", "Failed")
                        .gauge()
                        .value());
        assertTrue(Double.isNaN(gauge("longlora.job.target.perplexity", "llama")), "no results before success");

        metrics.observe("ml", "llama", running(130, 1));
        assertEquals(130, gauge("longlora.job.step", "llama"), "the same series, updated");
    }

    double trainerPhase(String job, String phase) {
        return registry.get("longlora.job.trainer.phase")
                .tag("job", job)
                .tag("phase", phase)
                .gauge()
                .value();
    }

    @Test
    void theTrainersPhaseIsOneSeriesPerKnownPhase() {
        metrics.observe("ml", "llama", running(120, 0));
        assertEquals(1.0, trainerPhase("llama", "checkpointing"));
        for (String other : List.of("loading", "training", "merging", "evaluating", "done")) {
            assertEquals(0.0, trainerPhase("llama", other), other);
        }
        assertEquals(6, registry.find("longlora.job.trainer.phase").gauges().size(), "bounded by the enum");

        LongLoRAJobStatus noReport = new LongLoRAJobStatus(
                JobPhase.Pending, List.of(), 1L, null, 0, 0, null, null, "pending", null, null, null, null);
        metrics.observe("ml", "llama", noReport);
        assertEquals(0.0, trainerPhase("llama", "checkpointing"), "no report: no phase is current");
    }

    @Test
    void seriesAreBoundedPerJobAndLeaveWithTheJob() {
        metrics.observe("ml", "a", running(1, 0));
        metrics.observe("ml", "b", running(2, 0));
        assertEquals(
                2 * 20,
                registry.getMeters().size(),
                "8 gauges plus one per job phase (6) and one per trainer phase (6) for each job");

        LongLoRAJob stillThere = TestJobs.job(1, 0);
        stillThere.getMetadata().setNamespace("ml");
        stillThere.getMetadata().setName("b");
        metrics.retainOnly(List.of(stillThere));
        assertEquals(20, registry.getMeters().size());
        assertTrue(registry.find("longlora.job.step").tag("job", "a").gauges().isEmpty(), "a's series are gone");
        assertEquals(2, gauge("longlora.job.step", "b"));
        assertEquals(1, metrics.trackedJobs());
    }
}

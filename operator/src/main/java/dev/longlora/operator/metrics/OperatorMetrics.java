package dev.longlora.operator.metrics;

import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Prometheus metrics of the operator: jobs by phase (counted from the operator's own cache of jobs, so deleted jobs
 * drop out by themselves), gang restarts, finished jobs, and reconcile latency.
 */
@Singleton
public class OperatorMetrics {
    private final MeterRegistry registry;
    private final Counter restarts;
    private final Timer reconcile;
    private volatile Supplier<Collection<LongLoRAJob>> jobs = List::of;

    @Inject
    public OperatorMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (JobPhase phase : JobPhase.values()) {
            Gauge.builder("longlora.jobs", () -> count(phase))
                    .tag("phase", phase.name())
                    .description("LongLoRAJobs by phase")
                    .register(registry);
        }
        this.restarts = Counter.builder("longlora.job.restarts")
                .description("Gang restarts after worker failures")
                .register(registry);
        this.reconcile = Timer.builder("longlora.reconcile")
                .description("Time to reconcile one LongLoRAJob")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
    }

    /** Where the jobs-by-phase gauges count from: the controller's informer cache. */
    public void countJobsFrom(Supplier<Collection<LongLoRAJob>> source) {
        this.jobs = source;
    }

    public void restarted(int count) {
        restarts.increment(count);
    }

    public void finished(JobPhase phase) {
        registry.counter("longlora.jobs.finished", "phase", phase.name()).increment();
    }

    public void reconciled(Duration took) {
        reconcile.record(took);
    }

    double count(JobPhase phase) {
        return jobs.get().stream()
                .filter(j -> j.getStatus() != null && j.getStatus().phase() == phase)
                .count();
    }
}

package dev.longlora.operator.metrics;

import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
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
    private final JobMetrics perJob;
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
        this.perJob = new JobMetrics(registry);
        // Deleted jobs get no reconcile; a sweep against the cache removes their series within SWEEP.
        Thread.ofVirtual().name("longlora-job-metrics-sweep").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(SWEEP);
                    perJob.retainOnly(jobs.get());
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the cache is not ready yet: try again next round
                }
            }
        });
    }

    /** How often the series of deleted jobs are looked for. */
    static final Duration SWEEP = Duration.ofSeconds(10);

    /** A job's status after a reconcile: its per-job gauges read it (docs/operations.md, "Metrics"). */
    public void observed(String namespace, String name, LongLoRAJobStatus status) {
        perJob.observe(namespace, name, status);
    }

    /** Jobs with per-job series now. */
    public int jobsWithSeries() {
        return perJob.trackedJobs();
    }

    /** Where the jobs-by-phase gauges count from: the controller's informer cache. */
    public void countJobsFrom(Supplier<Collection<LongLoRAJob>> source) {
        this.jobs = source;
    }

    /** Drops the per-job series of jobs no longer in the cache now (also done every {@link #SWEEP}). */
    public void sweep() {
        perJob.retainOnly(jobs.get());
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

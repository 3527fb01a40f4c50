package dev.longlora.operator.metrics;

import dev.longlora.contract.ProgressPhase;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.api.TrainingProgress;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Per-job gauges from each job's status (the trainer's progress as the operator folded it in): step, total steps,
 * loss, tokens/s, ETA, seconds per step, gang restarts, target-length perplexity, the job's phase and the trainer's
 * reported phase, labelled with {@code namespace} and {@code job} only (and {@code phase} on the two phase gauges): 8
 * series plus one per job phase and one per trainer phase, 20 per job whatever it does. A job's series are removed when it leaves the operator's cache (deleted), so cardinality
 * follows the number of live jobs.
 */
final class JobMetrics {
    private final MeterRegistry registry;
    private final Map<String, Tracked> jobs = new ConcurrentHashMap<>();

    /** One job's latest status and the meters reading it. */
    private static final class Tracked {
        volatile LongLoRAJobStatus status;
        final List<Meter> meters = new ArrayList<>();
    }

    JobMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** Records {@code status} of a job, registering its gauges the first time. */
    void observe(String namespace, String name, LongLoRAJobStatus status) {
        if (status == null) return;
        Tracked t = jobs.computeIfAbsent(key(namespace, name), k -> register(namespace, name));
        t.status = status;
    }

    /** Removes the series of every job not in {@code live}. */
    void retainOnly(Collection<LongLoRAJob> live) {
        Set<String> keep = live.stream()
                .map(j -> key(j.getMetadata().getNamespace(), j.getMetadata().getName()))
                .collect(Collectors.toSet());
        for (String k : List.copyOf(jobs.keySet())) {
            if (!keep.contains(k)) {
                Tracked gone = jobs.remove(k);
                if (gone != null) gone.meters.forEach(registry::remove);
            }
        }
    }

    int trackedJobs() {
        return jobs.size();
    }

    private Tracked register(String namespace, String name) {
        Tracked t = new Tracked();
        Tags tags = Tags.of("namespace", namespace, "job", name);
        gauge(t, "longlora.job.step", "Optimizer steps done (rank 0's report)", tags, s -> progress(s, p -> p.step()));
        gauge(
                t,
                "longlora.job.total.steps",
                "Optimizer steps of the whole run",
                tags,
                s -> progress(s, p -> p.totalSteps()));
        gauge(t, "longlora.job.loss", "Training loss at the last reported step", tags, s -> progress(s, p -> p.loss()));
        gauge(
                t,
                "longlora.job.tokens.per.second",
                "Training throughput of the whole gang",
                tags,
                s -> progress(s, p -> p.tokensPerSecond()));
        gauge(
                t,
                "longlora.job.eta.seconds",
                "Estimated seconds to the end of training",
                tags,
                s -> progress(s, p -> p.etaSeconds()));
        gauge(
                t,
                "longlora.job.step.seconds",
                "Seconds per optimizer step (ETA over the steps left)",
                tags,
                s -> progress(s, JobMetrics::secondsPerStep));
        gauge(
                t,
                "longlora.job.gang.restarts",
                "Gang restarts of this job so far",
                tags,
                s -> s.restarts() == null ? 0 : s.restarts());
        gauge(
                t,
                "longlora.job.target.perplexity",
                "Perplexity at the target length, once the job succeeded",
                tags,
                s -> s.results() == null || s.results().targetPerplexity() == null
                        ? Double.NaN
                        : s.results().targetPerplexity());
        for (JobPhase phase : JobPhase.values()) {
            gauge(
                    t,
                    "longlora.job.phase",
                    "1 for the job's current phase, 0 for the others",
                    tags.and("phase", phase.name()),
                    s -> s.phase() == phase ? 1 : 0);
        }
        for (ProgressPhase phase : ProgressPhase.values()) {
            gauge(
                    t,
                    "longlora.job.trainer.phase",
                    "1 for what rank 0 reports doing (loading, training, checkpointing, ...), 0 for the others",
                    tags.and("phase", phase.json()),
                    s -> s.progress() != null
                                    && phase.json().equals(s.progress().phase())
                            ? 1
                            : 0);
        }
        return t;
    }

    private void gauge(Tracked t, String name, String description, Tags tags, ToDoubleFunction<LongLoRAJobStatus> f) {
        t.meters.add(Gauge.builder(name, t, x -> x.status == null ? Double.NaN : f.applyAsDouble(x.status))
                .description(description)
                .tags(tags)
                .strongReference(true)
                .register(registry));
    }

    private static double progress(LongLoRAJobStatus s, java.util.function.Function<TrainingProgress, Number> f) {
        if (s.progress() == null) return Double.NaN;
        Number n = f.apply(s.progress());
        return n == null ? Double.NaN : n.doubleValue();
    }

    private static Number secondsPerStep(TrainingProgress p) {
        if (p.etaSeconds() == null || p.step() == null || p.totalSteps() == null || p.totalSteps() <= p.step()) {
            return null;
        }
        return p.etaSeconds() / (double) (p.totalSteps() - p.step());
    }
}

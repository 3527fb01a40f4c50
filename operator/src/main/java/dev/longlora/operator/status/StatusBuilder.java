package dev.longlora.operator.status;

import dev.longlora.contract.ProgressReport;
import dev.longlora.contract.ResultsReport;
import dev.longlora.operator.api.AvoidedNode;
import dev.longlora.operator.api.CheckpointRef;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.JobResults;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.api.TrainingProgress;
import dev.longlora.operator.api.WorkerCounts;
import dev.longlora.operator.api.WorkerFailure;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The phase machine: each phase sets the matching conditions, so phase and conditions never disagree. Starts from
 * the job's current status and only changes what a transition changes.
 */
public final class StatusBuilder {
    private final long generation;
    private final String now;
    private JobPhase phase;
    private List<Condition> conditions;
    private WorkerCounts workers;
    private int restarts;
    private int requestedStops;
    private String startTime;
    private String completionTime;
    private String message;
    private WorkerFailure lastFailure;
    private TrainingProgress progress;
    private CheckpointRef lastCheckpoint;
    private JobResults results;
    private List<AvoidedNode> avoidedNodes;

    /** The Succeeded condition's reasons: with the trainer's results, or without (its report was missing or bad). */
    public static final String TRAINER_SUCCEEDED = "TrainerSucceeded";

    public static final String SUCCEEDED_WITHOUT_RESULTS = "SucceededWithoutResults";

    public StatusBuilder(LongLoRAJobStatus current, long generation, String now) {
        LongLoRAJobStatus s = current != null ? current : LongLoRAJobStatus.initial();
        this.generation = generation;
        this.now = now;
        this.phase = s.phase() != null ? s.phase() : JobPhase.Pending;
        this.conditions = s.conditions() != null ? s.conditions() : List.of();
        this.workers = s.workers() != null ? s.workers() : new WorkerCounts(0, 0, 0);
        this.restarts = s.restarts() != null ? s.restarts() : 0;
        this.requestedStops = s.requestedStops() != null ? s.requestedStops() : 0;
        this.startTime = s.startTime();
        this.completionTime = s.completionTime();
        this.message = s.message();
        this.lastFailure = s.lastFailure();
        this.progress = s.progress();
        this.lastCheckpoint = s.lastCheckpoint();
        this.results = s.results();
        // Entries whose time is up are dropped here, so the pods created in this pass no longer avoid them.
        this.avoidedNodes = s.avoidedNodes() == null
                ? List.of()
                : s.avoidedNodes().stream()
                        .filter(a ->
                                a.until() == null || Instant.parse(a.until()).isAfter(Instant.parse(now)))
                        .toList();
    }

    /** The nodes the next gang keeps away from (unexpired). */
    public List<AvoidedNode> avoidedNodes() {
        return avoidedNodes;
    }

    /**
     * Keeps the next gangs away from {@code node} for {@code duration} (replacing an older entry for it, keeping it
     * required once any failure there was the node's own fault).
     */
    public StatusBuilder avoidNode(String node, String reason, boolean required, Duration duration) {
        String until = Instant.parse(now).plus(duration).toString();
        boolean wasRequired = avoidedNodes.stream().anyMatch(a -> a.node().equals(node) && a.required());
        List<AvoidedNode> next = new ArrayList<>(
                avoidedNodes.stream().filter(a -> !a.node().equals(node)).toList());
        next.add(new AvoidedNode(node, reason, required || wasRequired, until));
        avoidedNodes = List.copyOf(next);
        return this;
    }

    public JobPhase phase() {
        return phase;
    }

    public int restarts() {
        return restarts;
    }

    /** Gang restarts that count against backoffLimit: all but those after a requested stop (exit code 11). */
    public int countedRestarts() {
        return restarts - requestedStops;
    }

    public String startTime() {
        return startTime;
    }

    public String now() {
        return now;
    }

    public TrainingProgress progress() {
        return progress;
    }

    public StatusBuilder created() {
        conditions = Conditions.set(
                conditions,
                Conditions.CREATED,
                true,
                "ObjectsCreated",
                "checkpoint claim, service, config and trainer identity are in place",
                generation,
                now);
        return this;
    }

    public StatusBuilder pending(String why) {
        return enter(JobPhase.Pending, why).running(false, "WaitingForWorkers", why);
    }

    public StatusBuilder running(int nodes) {
        String why = "all " + nodes + " worker pod(s) are running";
        enter(JobPhase.Running, why).running(true, "AllWorkersRunning", why);
        conditions = Conditions.set(conditions, Conditions.RESTARTING, false, "GangRunning", why, generation, now);
        return this;
    }

    /** Keeps the Restarting phase while the new gang comes up. */
    public StatusBuilder stillRestarting(String why) {
        return enter(JobPhase.Restarting, why);
    }

    /** A gang restart; {@code counted} is false when the trainer stopped on request (it saved a checkpoint). */
    public StatusBuilder restarting(WorkerFailure failure, boolean counted, String why) {
        restarts++;
        if (!counted) requestedStops++;
        lastFailure = failure;
        enter(JobPhase.Restarting, why).running(false, "GangRestarting", why);
        conditions = Conditions.set(conditions, Conditions.RESTARTING, true, failure.reason(), why, generation, now);
        return this;
    }

    public StatusBuilder suspended(String why) {
        enter(JobPhase.Suspended, why).running(false, "JobSuspended", why);
        conditions = Conditions.set(conditions, Conditions.SUSPENDED, true, "JobSuspended", why, generation, now);
        // As for a Kubernetes Job, the deadline counts from the last start or resume.
        startTime = null;
        workers = new WorkerCounts(0, 0, 0);
        return this;
    }

    public StatusBuilder resumed() {
        conditions = Conditions.set(
                conditions,
                Conditions.SUSPENDED,
                false,
                "JobResumed",
                "spec.suspend is false: the gang resumes from the latest checkpoint",
                generation,
                now);
        return this;
    }

    public StatusBuilder succeeded(String why) {
        return succeeded(TRAINER_SUCCEEDED, why);
    }

    /** Succeeded with {@code reason} on the condition, e.g. {@link #SUCCEEDED_WITHOUT_RESULTS}. */
    public StatusBuilder succeeded(String reason, String why) {
        enter(JobPhase.Succeeded, why).running(false, "JobSucceeded", why);
        conditions = Conditions.set(conditions, Conditions.SUCCEEDED, true, reason, why, generation, now);
        completionTime = now;
        avoidedNodes = List.of(); // the job is done with its nodes
        return this;
    }

    public StatusBuilder failed(String reason, String why, WorkerFailure failure) {
        enter(JobPhase.Failed, why).running(false, "JobFailed", why);
        conditions = Conditions.set(conditions, Conditions.FAILED, true, reason, why, generation, now);
        if (failure != null) {
            lastFailure = failure;
        }
        completionTime = now;
        return this;
    }

    public StatusBuilder started() {
        if (startTime == null) {
            startTime = now;
        }
        return this;
    }

    public StatusBuilder workers(WorkerCounts counts) {
        workers = counts;
        return this;
    }

    /** Rank 0's report (contract section 6) into status.progress and status.lastCheckpoint. */
    public StatusBuilder progress(ProgressReport report) {
        return progress(report, null);
    }

    /**
     * As above, with the stall clock: lastAdvanceTime becomes now when the reported step differs from the one
     * recorded (or the recorded one came from a gang older than {@code gangStart}), and stays otherwise. Only steps
     * move it: a trainer's heartbeats (a new updateTime, same step) must not hide a hung collective.
     */
    public StatusBuilder progress(ProgressReport report, java.time.Instant gangStart) {
        String advanced = null;
        if (report.step() != null) {
            boolean sameStep = progress != null
                    && report.step().equals(progress.step())
                    && progress.lastAdvanceTime() != null
                    && (gangStart == null || !parsed(progress.lastAdvanceTime()).isBefore(gangStart));
            advanced = sameStep ? progress.lastAdvanceTime() : now;
        }
        progress = new TrainingProgress(
                report.step(),
                report.totalSteps(),
                report.loss(),
                report.learningRate(),
                report.tokensPerSecond(),
                report.etaSeconds(),
                report.updateTime(),
                report.phase() == null ? null : report.phase().json(),
                advanced);
        ProgressReport.LastCheckpoint c = report.lastCheckpoint();
        if (c != null) {
            lastCheckpoint = new CheckpointRef(c.step(), c.path(), c.time());
        }
        return this;
    }

    private static java.time.Instant parsed(String time) {
        try {
            return java.time.Instant.parse(time);
        } catch (java.time.format.DateTimeParseException e) {
            return java.time.Instant.EPOCH; // unreadable: as old as can be, so the next report restarts the clock
        }
    }

    /** Rank 0's results report (contract section 8) into status.results. */
    public StatusBuilder results(ResultsReport report, int targetLength) {
        results = new JobResults(
                report.adapterPath(),
                report.mergedPath(),
                report.perplexity().stream()
                        .map(p -> new JobResults.Perplexity(p.length(), p.value()))
                        .toList(),
                report.passkey().stream()
                        .map(p -> new JobResults.Passkey(p.length(), p.accuracy()))
                        .toList(),
                report.perplexityAt(targetLength),
                report.time());
        return this;
    }

    public LongLoRAJobStatus build() {
        return new LongLoRAJobStatus(
                phase,
                conditions,
                generation,
                workers,
                restarts,
                requestedStops,
                startTime,
                completionTime,
                message,
                lastFailure,
                progress,
                lastCheckpoint,
                results,
                avoidedNodes.isEmpty() ? null : avoidedNodes);
    }

    private StatusBuilder enter(JobPhase next, String why) {
        phase = next;
        message = why;
        return this;
    }

    private StatusBuilder running(boolean value, String reason, String why) {
        // Conditions.set adds Running only once it is True: Running=False shows once the job has run.
        conditions = Conditions.set(conditions, Conditions.RUNNING, value, reason, why, generation, now);
        return this;
    }
}

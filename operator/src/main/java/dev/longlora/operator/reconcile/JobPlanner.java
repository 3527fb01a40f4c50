package dev.longlora.operator.reconcile;

import dev.longlora.contract.ExitCode;
import dev.longlora.contract.PodPaths;
import dev.longlora.contract.ResultsReport;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.WorkerCounts;
import dev.longlora.operator.api.WorkerFailure;
import dev.longlora.operator.reconcile.Action.CreatePod;
import dev.longlora.operator.reconcile.Action.DeleteJob;
import dev.longlora.operator.reconcile.Action.DeletePod;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import dev.longlora.operator.status.GangAssessment;
import dev.longlora.operator.status.StatusBuilder;
import dev.longlora.operator.status.WorkerObservation;
import dev.longlora.operator.status.WorkerState;
import dev.longlora.operator.topology.JobResolver;
import dev.longlora.operator.topology.JobTopology;
import dev.longlora.operator.topology.Names;
import dev.longlora.operator.topology.SpecValidation;
import dev.longlora.operator.topology.TopologySettings;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One reconcile of one job, as a short chain of steps with no client: finished? -> valid? -> supporting objects ->
 * suspended? -> previous gang gone? -> deadline -> failures (gang restart or Failed) -> success -> missing pods.
 * Pure: the same job, observation and clock give the same plan, which makes every rule unit-testable.
 */
public final class JobPlanner {
    /** lastFailure.reason of a gang that stopped reporting progress. */
    public static final String STALLED = "Stalled";

    /** How long a job's new gangs avoid a node one of its workers failed on (docs/api.md, status.avoidedNodes). */
    public static final Duration FAILED_NODE_AVOIDANCE = Duration.ofHours(1);

    private final TopologySettings settings;

    public JobPlanner(TopologySettings settings) {
        this.settings = settings;
    }

    public Plan plan(LongLoRAJob job, Observed observed, Instant now) {
        return new Step(job, observed, now).run();
    }

    /** When a running gang counts as stalled, and what the message says then. */
    private record Stall(Instant due, String why) {}

    /** The state of one planning pass. */
    private final class Step {
        final LongLoRAJob job;
        final LongLoRAJobSpec spec;
        final Observed observed;
        final Instant now;
        final StatusBuilder status;
        final JobPhase before;
        final List<WorkerObservation> workers;
        final List<Action> actions = new ArrayList<>();
        Duration requeue;
        Stall stalled;

        Step(LongLoRAJob job, Observed observed, Instant now) {
            this.job = job;
            this.spec = job.getSpec();
            this.observed = observed;
            this.now = now.truncatedTo(ChronoUnit.SECONDS);
            long generation = job.getMetadata().getGeneration() == null
                    ? 0
                    : job.getMetadata().getGeneration();
            this.status = new StatusBuilder(job.getStatus(), generation, this.now.toString());
            this.before = status.phase();
            this.workers = observed.pods().stream().map(WorkerObservation::of).toList();
        }

        Plan run() {
            if (before.isFinished()) {
                return finished();
            }
            List<String> problems = SpecValidation.problems(job);
            if (!problems.isEmpty()) {
                deletePods(workers.stream().filter(w -> w.state().active()).toList(), "the job spec is invalid");
                String why = "invalid spec: " + String.join("; ", problems);
                status.failed("InvalidSpec", why, null);
                event(RecordEvent.warning("InvalidSpec", why));
                return done();
            }
            JobTopology topology = new JobTopology(job, settings);
            ensureSupportingObjects(topology);
            status.created();

            int generation = status.restarts();
            if (workers.stream().anyMatch(w -> w.restartGeneration() > generation)) {
                // Pods of a newer gang than our status knows: the cached status is behind our own write. Look again
                // soon.
                requeue = Duration.ofSeconds(1);
                return new Plan(actions, job.getStatus(), Optional.of(requeue));
            }
            if (JobResolver.suspended(spec)) {
                return suspend();
            }
            if (before == JobPhase.Suspended) {
                if (!workers.isEmpty()) {
                    deletePods(nonTerminating(workers), "the job was suspended");
                    status.suspended("resuming: waiting for the suspended gang's pods to terminate");
                    return done();
                }
                status.resumed();
                event(RecordEvent.normal(
                        "Resumed", "spec.suspend is false: recreating the gang from the latest checkpoint"));
            }
            List<WorkerObservation> stale = workers.stream()
                    .filter(w -> w.restartGeneration() != generation)
                    .toList();
            if (!stale.isEmpty()) {
                deleteSurvivors(nonTerminating(stale), "it belongs to a previous gang");
                status.stillRestarting("gang restart " + generation + ": waiting for " + stale.size()
                        + " pod(s) of the previous gang to terminate");
                return done();
            }
            if (deadlinePassed()) {
                deletePods(workers.stream().filter(w -> w.state().active()).toList(), "the job passed its deadline");
                String why =
                        "the job ran longer than spec.activeDeadlineSeconds (" + spec.activeDeadlineSeconds() + "s)";
                status.failed("DeadlineExceeded", why, null);
                event(RecordEvent.warning("DeadlineExceeded", why));
                return done();
            }
            int nodes = JobResolver.distributed(spec).nodes();
            GangAssessment gang = GangAssessment.of(nodes, workers);
            Optional<WorkerFailure> failure = failureOf(gang);
            if (failure.isPresent()) {
                return handleFailure(failure.get(), gang);
            }
            if (gang.allSucceeded()) {
                status.workers(new WorkerCounts(nodes, 0, 0));
                gang.progress().ifPresent(r -> status.progress(r, gangStart(gang)));
                succeeded(gang, topology, nodes);
                ttlRequeue();
                return done();
            }
            for (int node : gang.missingNodes()) {
                actions.add(new CreatePod(topology.pod(node, generation, status.avoidedNodes())));
            }
            if (!gang.missingNodes().isEmpty()) {
                status.started();
                if (gang.missingNodes().size() == nodes) {
                    event(RecordEvent.normal(
                            "GangCreated", "created " + nodes + " worker pod(s), restart generation " + generation));
                }
            }
            status.workers(new WorkerCounts(nodes, gang.ready(), gang.failed()));
            gang.progress().ifPresent(r -> status.progress(r, gangStart(gang)));
            if (gang.allRunning() && spec.progressDeadlineSeconds() != null) {
                Stall clock = stallClock(gang);
                if (!now.isBefore(clock.due())) {
                    stalled = clock;
                    return handleFailure(
                            new WorkerFailure(
                                    Names.pod(job.getMetadata().getName(), 0), null, STALLED, false, status.now()),
                            gang);
                }
                requeueWithin(Duration.between(now, clock.due()).plusSeconds(1));
            }
            int running = gang.count(WorkerState.READY) + gang.count(WorkerState.RUNNING);
            if (gang.allRunning()) {
                if (before != JobPhase.Running) {
                    event(RecordEvent.normal("Running", "all " + nodes + " worker(s) are running"));
                }
                status.running(nodes);
            } else if (before == JobPhase.Restarting) {
                status.stillRestarting("gang restart " + generation + ": " + running + " of " + nodes
                        + " worker(s) running" + waitingFor(gang));
            } else {
                status.pending("waiting for workers: " + running + " of " + nodes + " running" + waitingFor(gang));
            }
            deadlineRequeue();
            return done();
        }

        /**
         * Success, with rank 0's results report (its termination message) in status.results. A missing or malformed
         * report leaves the results empty and says why: the job trained and its outputs are in place, so it still
         * Succeeds.
         */
        void succeeded(GangAssessment gang, JobTopology topology, int nodes) {
            String finished = "all " + nodes + " worker(s) finished; outputs are under /checkpoints/output on claim "
                    + topology.claimName();
            event(RecordEvent.normal(
                    "Succeeded",
                    "training finished; adapter in /checkpoints/output/adapter on claim " + topology.claimName()));
            ResultsReport report;
            try {
                report = ResultsReport.parse(gang.resultsMessage());
            } catch (IllegalArgumentException e) {
                String why = "no results from " + Names.pod(job.getMetadata().getName(), 0) + ": " + e.getMessage()
                        + " (a trainer that predates results reports, or one that could not write "
                        + PodPaths.TERMINATION_MESSAGE_PATH + ")";
                status.succeeded(StatusBuilder.SUCCEEDED_WITHOUT_RESULTS, finished + "; " + why);
                event(RecordEvent.warning("ResultsUnavailable", why));
                return;
            }
            status.results(report, topology.config().context().targetLength());
            status.succeeded(finished + "; " + report.summary());
            event(RecordEvent.normal("Results", report.summary()));
        }

        Plan suspend() {
            deletePods(nonTerminating(workers), "the job is suspended");
            if (before != JobPhase.Suspended) {
                event(RecordEvent.normal(
                        "Suspended", "spec.suspend is true: worker pods removed, checkpoint volume kept"));
            }
            status.suspended("suspended: pods removed; the checkpoint volume and status are kept");
            return done();
        }

        /** A failed pod, or a pod of the running gang deleted by someone else (drain, eviction). */
        Optional<WorkerFailure> failureOf(GangAssessment gang) {
            Optional<GangAssessment.Failure> failed = gang.firstFailure();
            if (failed.isPresent()) {
                GangAssessment.Failure f = failed.get();
                return Optional.of(new WorkerFailure(
                        f.worker().name(),
                        f.worker().exitCode(),
                        f.classification().reason(),
                        f.classification().permanent(),
                        status.now(),
                        f.worker().nodeName()));
            }
            return gang.workers().stream()
                    .filter(w -> w.state() == WorkerState.TERMINATING)
                    .findFirst()
                    .map(w -> new WorkerFailure(w.name(), null, "Deleted", false, status.now()));
        }

        /** What the first waiting worker waits for (e.g. unschedulable: not enough GPUs), for the status message. */
        String waitingFor(GangAssessment gang) {
            return gang.workers().stream()
                    .filter(w -> w.waitingFor() != null)
                    .findFirst()
                    .map(w -> "; " + w.name() + ": " + w.waitingFor())
                    .orElse("");
        }

        /** When rank 0's pod of the current gang was created (the API server's clock); now when there is none. */
        Instant gangStart(GangAssessment gang) {
            return gang.workers().stream()
                    .filter(w -> w.nodeIndex() == 0)
                    .findFirst()
                    .map(w -> instant(w.createdAt()))
                    .orElse(now);
        }

        /**
         * The stall clock, on the operator's side only: from the last time the reported step advanced in this gang
         * (status.progress.lastAdvanceTime) plus progressDeadlineSeconds; before this gang's first step, from the
         * gang's start plus startupDeadlineSeconds (loading a large model takes far longer than a step).
         */
        Stall stallClock(GangAssessment gang) {
            Instant start = gangStart(gang);
            Instant advanced =
                    status.progress() == null ? null : instant(status.progress().lastAdvanceTime());
            if (advanced != null && !advanced.isBefore(start)) {
                long seconds = spec.progressDeadlineSeconds();
                return new Stall(
                        advanced.plusSeconds(seconds),
                        "rank 0's step has not advanced for " + seconds + "s (spec.progressDeadlineSeconds)");
            }
            long seconds = JobResolver.startupDeadlineSeconds(spec);
            return new Stall(
                    start.plusSeconds(seconds),
                    "the gang reported no step within " + seconds + "s of starting (spec.startupDeadlineSeconds)");
        }

        Plan handleFailure(WorkerFailure failure, GangAssessment gang) {
            String explanation = failure.exitCode() != null
                    ? ExitCode.classify(failure.exitCode()).explanation()
                    : STALLED.equals(failure.reason()) && stalled != null
                            ? stalled.why()
                            : "the pod was removed or failed (" + failure.reason() + ") without a trainer exit code";
            String who = "worker " + failure.pod() + ": " + explanation;
            int limit = JobResolver.backoffLimit(spec);
            if (failure.permanent()) {
                deleteSurvivors(
                        gang.workers().stream().filter(w -> w.state().active()).toList(), "the job failed");
                status.failed(failure.reason(), who, failure);
                event(RecordEvent.warning(failure.reason(), who));
                ttlRequeue();
                return done();
            }
            boolean counted = failure.exitCode() == null
                    || ExitCode.classify(failure.exitCode()).countsAgainstBackoff();
            if (counted && status.countedRestarts() >= limit) {
                deleteSurvivors(
                        gang.workers().stream().filter(w -> w.state().active()).toList(), "the job failed");
                String why = "backoffLimit (" + limit + ") reached after " + status.countedRestarts()
                        + " gang restart(s); last: " + who;
                status.failed("BackoffLimitExceeded", why, failure);
                event(RecordEvent.warning("BackoffLimitExceeded", why));
                ttlRequeue();
                return done();
            }
            deleteSurvivors(nonTerminating(gang.workers()), "the gang restarts");
            avoidFailedNode(failure, counted);
            String why = counted
                    ? "gang restart " + (status.countedRestarts() + 1) + " of " + limit + " after " + who
                    : "gang restart after " + who;
            status.restarting(failure, counted, why);
            event(RecordEvent.warning("WorkerFailed", who));
            event(RecordEvent.warning("GangRestart", why));
            return done();
        }

        /**
         * Keeps the next gangs off the node a worker failed on, when the node may be the cause: not for a lost peer
         * (the peer's node is, and it is the failure acted on when it failed too), not for a requested stop.
         */
        void avoidFailedNode(WorkerFailure failure, boolean counted) {
            if (failure.node() == null
                    || !counted
                    || ExitCode.LOST_PEER.reason().equals(failure.reason())) return;
            boolean nodeFault = ExitCode.NODE_UNFIT.reason().equals(failure.reason());
            status.avoidNode(failure.node(), failure.reason(), nodeFault, FAILED_NODE_AVOIDANCE);
            event(RecordEvent.warning(
                    "AvoidingNode",
                    "the next gangs " + (nodeFault ? "will not run" : "prefer not to run") + " on node "
                            + failure.node() + " for " + FAILED_NODE_AVOIDANCE.toMinutes() + " min, after "
                            + failure.pod() + " failed there (" + failure.reason() + ")"));
        }

        Plan finished() {
            if (before == JobPhase.Failed) {
                // Failed jobs free their GPUs; failed pods stay for their logs.
                deletePods(workers.stream().filter(w -> w.state().active()).toList(), "the job failed");
            }
            Integer ttl = spec == null ? null : spec.ttlSecondsAfterFinished();
            String completed = job.getStatus() == null ? null : job.getStatus().completionTime();
            if (ttl != null && completed != null) {
                Instant due = Instant.parse(completed).plusSeconds(ttl);
                if (!now.isBefore(due)) {
                    actions.add(new DeleteJob());
                } else {
                    requeue = Duration.between(now, due);
                }
            }
            return new Plan(actions, job.getStatus(), Optional.ofNullable(requeue));
        }

        void ensureSupportingObjects(JobTopology topology) {
            for (HasMetadata desired : topology.supportingObjects()) {
                if (!ResourceMatcher.matches(desired, observed.current(desired))) {
                    actions.add(new Action.Apply(desired));
                }
            }
        }

        boolean deadlinePassed() {
            Long deadline = spec.activeDeadlineSeconds();
            return deadline != null
                    && status.startTime() != null
                    && !now.isBefore(Instant.parse(status.startTime()).plusSeconds(deadline));
        }

        void deadlineRequeue() {
            Long deadline = spec.activeDeadlineSeconds();
            String start = status.startTime();
            if (deadline != null && start != null) {
                requeueWithin(Duration.between(now, Instant.parse(start).plusSeconds(deadline))
                        .plusSeconds(1));
            }
        }

        void requeueWithin(Duration d) {
            if (requeue == null || d.compareTo(requeue) < 0) {
                requeue = d;
            }
        }

        void ttlRequeue() {
            if (spec.ttlSecondsAfterFinished() != null) {
                requeue = Duration.ofSeconds(spec.ttlSecondsAfterFinished() + 1L);
            }
        }

        static Instant instant(String time) {
            try {
                return time == null ? null : Instant.parse(time);
            } catch (java.time.format.DateTimeParseException e) {
                return null;
            }
        }

        void deletePods(List<WorkerObservation> pods, String why) {
            pods.forEach(p -> actions.add(new DeletePod(p.name(), why)));
        }

        /**
         * The gang is torn down because a worker failed (or stalled): the others cannot finish a step without it, so
         * they are stopped at once instead of being given their grace period to save.
         */
        void deleteSurvivors(List<WorkerObservation> pods, String why) {
            pods.forEach(p -> actions.add(DeletePod.now(p.name(), why)));
        }

        List<WorkerObservation> nonTerminating(List<WorkerObservation> pods) {
            return pods.stream()
                    .filter(w -> w.state() != WorkerState.TERMINATING)
                    .toList();
        }

        void event(RecordEvent event) {
            actions.add(event);
        }

        Plan done() {
            return new Plan(actions, status.build(), Optional.ofNullable(requeue));
        }
    }
}

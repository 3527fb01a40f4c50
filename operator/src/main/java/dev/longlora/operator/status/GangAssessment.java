package dev.longlora.operator.status;

import dev.longlora.contract.ExitCode;
import dev.longlora.contract.ProgressReport;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The current gang (pods of one restart generation) summed up: how many are ready, failed or done, and the failure
 * that decides what happens next (the lowest node index, so a decision is stable across reconciles).
 */
public record GangAssessment(int desired, List<WorkerObservation> workers) {

    public static GangAssessment of(int desired, List<WorkerObservation> currentGeneration) {
        return new GangAssessment(
                desired,
                currentGeneration.stream()
                        .sorted(Comparator.comparingInt(WorkerObservation::nodeIndex))
                        .toList());
    }

    public int count(WorkerState state) {
        return (int) workers.stream().filter(w -> w.state() == state).count();
    }

    public int ready() {
        return count(WorkerState.READY);
    }

    public int failed() {
        return count(WorkerState.FAILED);
    }

    public boolean allSucceeded() {
        return desired > 0 && count(WorkerState.SUCCEEDED) == desired;
    }

    /** Every pod of the gang is running (the gang is up; readiness is the trainer's business). */
    public boolean allRunning() {
        return desired > 0 && count(WorkerState.READY) + count(WorkerState.RUNNING) == desired;
    }

    /**
     * The failure to act on: the cause rather than its echo, so a worker that died is preferred to the survivors that
     * then exited LostPeer (its node is the one to avoid), else the first failed worker.
     */
    public Optional<Failure> firstFailure() {
        List<Failure> failures = workers.stream()
                .filter(w -> w.state() == WorkerState.FAILED)
                .map(w -> new Failure(
                        w,
                        w.exitCode() != null
                                ? ExitCode.classify(w.exitCode())
                                : ExitCode.withoutExitCode(w.podReason())))
                .toList();
        return failures.stream()
                .filter(f ->
                        !ExitCode.LOST_PEER.reason().equals(f.classification().reason()))
                .findFirst()
                .or(() -> failures.stream().findFirst());
    }

    /** Node indices with no pod of this generation: to be created. */
    public List<Integer> missingNodes() {
        Set<Integer> present =
                workers.stream().map(WorkerObservation::nodeIndex).collect(Collectors.toSet());
        return java.util.stream.IntStream.range(0, desired)
                .filter(i -> !present.contains(i))
                .boxed()
                .toList();
    }

    /** Rank 0's progress report, when it has written one. */
    public Optional<ProgressReport> progress() {
        return workers.stream()
                .filter(w -> w.nodeIndex() == 0)
                .findFirst()
                .flatMap(w -> ProgressReport.parse(w.progressAnnotation()));
    }

    /** Rank 0's termination message (its results report, contract section 8); null when it has none. */
    public String resultsMessage() {
        return workers.stream()
                .filter(w -> w.nodeIndex() == 0)
                .findFirst()
                .map(WorkerObservation::terminationMessage)
                .orElse(null);
    }

    /** A failed worker and what its exit means. */
    public record Failure(WorkerObservation worker, ExitCode.Classification classification) {}
}

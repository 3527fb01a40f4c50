package dev.longlora.contract;

import java.util.Arrays;
import java.util.Optional;

/**
 * The trainer's exit codes (docs/contract.md section 7) with what each means for the job: the operator restarts the
 * gang only for retryable ones, and shows {@link #reason()} in status. Only a classified failure may exit with a
 * permanent code; a bug exits {@link #UNEXPECTED} with its stack trace, because a restart may well get past it and it
 * is not the user's fault.
 */
public enum ExitCode {
    OK(0, "Succeeded", Action.SUCCEED, "the trainer finished"),
    UNEXPECTED(
            1,
            "UnexpectedError",
            Action.RESTART,
            "unexpected trainer error (exit code 1, a bug or an environment problem; the stack trace is in the pod"
                    + " log); restarting the gang from the latest checkpoint"),
    BAD_CONFIG(
            2,
            "InvalidConfig",
            Action.FAIL,
            "bad configuration or arguments (exit code 2); fix the job spec, a restart cannot help"),
    BAD_MODEL_OR_DATA(
            3,
            "InvalidModelOrData",
            Action.FAIL,
            "unreadable or invalid model or data (exit code 3); check spec.model.path and spec.dataset.path"),
    OUT_OF_MEMORY(
            4,
            "OutOfMemory",
            Action.FAIL,
            "out of memory at this context length (exit code 4); lower spec.context.targetLength or"
                    + " training.microBatchSize, raise distributed.zeroStage or enable offloadOptimizer; see the pod"
                    + " log"),
    LOSS_DIVERGED(
            5,
            "LossDiverged",
            Action.FAIL,
            "the loss became NaN or infinite (exit code 5; the step and learning rate are in the pod log); lower"
                    + " spec.training.learningRate or raise warmupSteps, or resume from an earlier checkpoint"),
    LOST_PEER(
            10,
            "LostPeer",
            Action.RESTART,
            "lost a peer or a collective timed out (exit code 10); restarting the gang from the latest checkpoint"),
    STOPPED(
            11,
            "Stopped",
            Action.RESTART_UNCOUNTED,
            "the trainer saved a checkpoint and stopped on request (exit code 11, e.g. preemption); restarting the"
                    + " gang from that checkpoint, not counted against backoffLimit"),
    NODE_UNFIT(
            12,
            "NodeUnfit",
            Action.RESTART,
            "this node cannot run the trainer (exit code 12: no visible GPU, no usable CUDA driver or no NCCL"
                    + " library; the pod log says which); restarting the gang away from this node");

    /** What the operator does when a worker ends with a code. */
    public enum Action {
        SUCCEED,
        /** Permanent: the job fails, no restart can help. */
        FAIL,
        /** Retryable: gang restart, counted against backoffLimit. */
        RESTART,
        /** Retryable and asked for (the cluster or operator stopped the pod): not counted against backoffLimit. */
        RESTART_UNCOUNTED
    }

    private final int code;
    private final String reason;
    private final Action action;
    private final String explanation;

    ExitCode(int code, String reason, Action action, String explanation) {
        this.code = code;
        this.reason = reason;
        this.action = action;
        this.explanation = explanation;
    }

    public int code() {
        return code;
    }

    /** The CamelCase reason the job's status and events show. */
    public String reason() {
        return reason;
    }

    public Action action() {
        return action;
    }

    public String explanation() {
        return explanation;
    }

    public boolean permanent() {
        return action == Action.FAIL;
    }

    public static Optional<ExitCode> of(int code) {
        return Arrays.stream(values()).filter(e -> e.code == code).findFirst();
    }

    /** What an ended trainer container means for the job. */
    public record Classification(String reason, Action action, String explanation) {
        public boolean permanent() {
            return action == Action.FAIL;
        }

        public boolean countsAgainstBackoff() {
            return action == Action.RESTART;
        }
    }

    /** Any container exit code: the contract's codes, a signal (128 + n) or an unknown code (retryable). */
    public static Classification classify(int exitCode) {
        Optional<ExitCode> known = of(exitCode);
        if (known.isPresent()) {
            ExitCode e = known.get();
            return new Classification(e.reason, e.action, e.explanation);
        }
        if (exitCode > 128) {
            return new Classification(
                    "Signal",
                    Action.RESTART,
                    "killed by signal " + (exitCode - 128) + " (exit code " + exitCode
                            + "); restarting the gang from the latest checkpoint");
        }
        return new Classification(
                "Unknown",
                Action.RESTART,
                "exited with code " + exitCode + "; restarting the gang from the latest checkpoint");
    }

    /** A pod that failed without a container exit code (eviction, node loss, deletion) is retryable. */
    public static Classification withoutExitCode(String podReason) {
        String reason = podReason == null || podReason.isBlank() ? "PodFailed" : podReason;
        return new Classification(
                reason,
                Action.RESTART,
                "the pod failed (" + reason + ") without a trainer exit"
                        + " code; restarting the gang from the latest checkpoint");
    }
}

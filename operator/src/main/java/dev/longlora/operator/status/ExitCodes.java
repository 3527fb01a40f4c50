package dev.longlora.operator.status;

/** The trainer's exit codes (docs/contract.md section 7): which failures a gang restart can fix. */
public final class ExitCodes {
    private ExitCodes() {}

    /** What an ended trainer container means for the job. */
    public record Classification(String reason, boolean permanent, String explanation) {}

    public static Classification classify(int exitCode) {
        return switch (exitCode) {
            case 0 -> new Classification("Succeeded", false, "the trainer finished");
            case 2 ->
                new Classification(
                        "InvalidConfig",
                        true,
                        "bad configuration or arguments (exit code 2); fix the job spec, a restart cannot help");
            case 3 ->
                new Classification(
                        "InvalidModelOrData",
                        true,
                        "unreadable or invalid model or data (exit code 3); check spec.model.path and spec.dataset.path");
            case 4 ->
                new Classification(
                        "OutOfMemory",
                        true,
                        "out of memory at this context length (exit code 4); lower spec.context.targetLength or "
                                + "training.microBatchSize, raise distributed.zeroStage or enable offloadOptimizer; see the pod log");
            case 10 ->
                new Classification(
                        "LostPeer",
                        false,
                        "lost a peer or a collective timed out (exit code 10); restarting the gang from the latest checkpoint");
            default ->
                exitCode > 128
                        ? new Classification(
                                "Signal",
                                false,
                                "killed by signal " + (exitCode - 128) + " (exit code " + exitCode
                                        + "); restarting the gang from the latest checkpoint")
                        : new Classification(
                                "Unknown",
                                false,
                                "exited with code " + exitCode + "; restarting the gang from the latest checkpoint");
        };
    }

    /** A pod that failed without a container exit code (eviction, node loss, deletion) is retryable. */
    public static Classification withoutExitCode(String podReason) {
        String reason = podReason == null || podReason.isBlank() ? "PodFailed" : podReason;
        return new Classification(
                reason,
                false,
                "the pod failed (" + reason + ") without a trainer exit code; "
                        + "restarting the gang from the latest checkpoint");
    }
}

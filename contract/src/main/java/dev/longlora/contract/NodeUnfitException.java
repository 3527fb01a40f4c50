package dev.longlora.contract;

/**
 * The node, not the job, is at fault: it shows no GPU although the job asked for some, its CUDA driver does not
 * work, or NCCL cannot be loaded. The trainer exits with {@link ExitCode#NODE_UNFIT}: retryable, and the operator
 * steers the next gang away from the node, because the same node would fail the same way. The message names what is
 * missing and where it was looked for.
 */
public class NodeUnfitException extends RuntimeException {
    public NodeUnfitException(String message) {
        super(message);
    }

    public NodeUnfitException(String message, Throwable cause) {
        super(message, cause);
    }
}

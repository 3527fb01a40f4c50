package dev.longlora.trainer.cli;

/** Process exit codes (docs/contract.md section 7); the operator decides on restarts by them. */
public final class ExitCodes {
    public static final int OK = 0;
    /** Unexpected failure (a bug or an environment problem): retryable. */
    public static final int UNKNOWN = 1;
    /** Bad configuration or arguments: permanent. */
    public static final int BAD_CONFIG = 2;
    /** Unreadable or invalid model or data: permanent. */
    public static final int BAD_MODEL_OR_DATA = 3;
    /** Out of memory at this context length: permanent. */
    public static final int OUT_OF_MEMORY = 4;
    /** Lost peer or collective timeout: retryable (gang restart). */
    public static final int LOST_PEER = 10;

    private ExitCodes() {}
}

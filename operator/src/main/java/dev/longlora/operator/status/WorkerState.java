package dev.longlora.operator.status;

/** What one trainer pod is doing, as far as the gang is concerned. */
public enum WorkerState {
    /** Created, not yet running (scheduling, pulling the image). */
    PENDING,
    /** Running, trainer container not (yet) ready. */
    RUNNING,
    /** Running with a ready trainer container. */
    READY,
    SUCCEEDED,
    FAILED,
    /** Being deleted (graceful termination). */
    TERMINATING;

    public boolean active() {
        return this == PENDING || this == RUNNING || this == READY;
    }
}

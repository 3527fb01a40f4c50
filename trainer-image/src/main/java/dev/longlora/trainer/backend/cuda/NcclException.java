package dev.longlora.trainer.backend.cuda;

/** A failed NCCL call: which call, NCCL's status code and NCCL's own description of it. */
public final class NcclException extends RuntimeException {
    /** ncclSystemError: a socket or other system call failed (often a peer that went away). */
    static final int SYSTEM_ERROR = 2;
    /** ncclRemoteError: a peer reported an error or vanished. */
    static final int REMOTE_ERROR = 6;

    private final String call;
    private final int status;

    public NcclException(String call, int status, String description) {
        super(call + " failed: NCCL status " + status + " (" + description + ")");
        this.call = call;
        this.status = status;
    }

    public String call() {
        return call;
    }

    public int status() {
        return status;
    }

    /** True when a peer or the network, not this rank, is the likely cause: the gang should restart. */
    public boolean peerFault() {
        return status == SYSTEM_ERROR || status == REMOTE_ERROR;
    }
}

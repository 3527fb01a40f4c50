package dev.longlora.trainer.dist;

/**
 * A peer rank died, closed its connection, stopped answering within the collective timeout, or never joined the
 * rendezvous: this rank cannot continue (exit code 10, LostPeer; the operator restarts the gang).
 */
public final class LostPeerException extends RuntimeException {
    private final int peerRank;
    private final String operation;

    public LostPeerException(int peerRank, String operation, String detail) {
        this(peerRank, operation, detail, null);
    }

    public LostPeerException(int peerRank, String operation, String detail, Throwable cause) {
        super("lost peer rank " + peerRank + " during " + operation + ": " + detail, cause);
        this.peerRank = peerRank;
        this.operation = operation;
    }

    public int peerRank() {
        return peerRank;
    }

    public String operation() {
        return operation;
    }
}

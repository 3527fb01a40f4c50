package dev.longlora.operator.api;

/** Where a job is in its life; Succeeded and Failed are final. */
public enum JobPhase {
    Pending,
    Running,
    Restarting,
    Suspended,
    Succeeded,
    Failed;

    public boolean isFinished() {
        return this == Succeeded || this == Failed;
    }
}

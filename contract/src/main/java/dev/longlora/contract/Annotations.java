package dev.longlora.contract;

/** Annotation keys shared by the trainer and the operator (docs/contract.md section 6). */
public final class Annotations {
    /** On rank 0's pod: the trainer's {@link ProgressReport} as JSON, folded into the job's status. */
    public static final String PROGRESS = "longlora.dev/progress";

    private Annotations() {}
}

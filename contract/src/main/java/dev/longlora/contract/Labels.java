package dev.longlora.contract;

/** Label keys on the objects the operator creates for a job (docs/contract.md section 2). */
public final class Labels {
    /** Every object of a job; the operator's informers select on it. */
    public static final String JOB = "longlora.dev/job-name";
    /** A trainer pod's index in the gang, 0..nodes-1 (its NODE_RANK). */
    public static final String NODE_INDEX = "longlora.dev/node-index";
    /** The gang's restart generation (status.restarts when the pods were created). */
    public static final String RESTART = "longlora.dev/restart";

    public static final String NAME = "app.kubernetes.io/name";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String TRAINER_NAME = "longlora-trainer";
    public static final String OPERATOR_NAME = "longlora-operator";

    private Labels() {}
}

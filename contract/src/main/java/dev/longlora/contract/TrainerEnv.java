package dev.longlora.contract;

import java.util.Set;

/**
 * Names of the environment variables of every trainer pod (docs/contract.md section 3): rank wiring and paths only;
 * everything else is in job.json. {@link RankEnv} parses them.
 */
public final class TrainerEnv {
    public static final String NNODES = "NNODES";
    public static final String NODE_RANK = "NODE_RANK";
    public static final String GPUS_PER_NODE = "GPUS_PER_NODE";
    public static final String WORLD_SIZE = "WORLD_SIZE";
    public static final String MASTER_ADDR = "MASTER_ADDR";
    public static final String MASTER_PORT = "MASTER_PORT";
    public static final String ZERO_STAGE = "ZERO_STAGE";
    public static final String CHECKPOINT_DIR = "CHECKPOINT_DIR";
    public static final String RESUME_FROM = "RESUME_FROM";
    public static final String JOB_NAME = "LONGLORA_JOB_NAME";
    public static final String NAMESPACE = "LONGLORA_NAMESPACE";
    public static final String POD_NAME = "POD_NAME";
    /** The gang generation: the job's restart count, presented at the rendezvous so stragglers are refused. */
    public static final String RESTART = "LONGLORA_RESTART";
    /** Where rank 0 writes its results report at the end ({@link PodPaths#TERMINATION_MESSAGE_PATH} in a pod). */
    public static final String RESULTS_FILE = "LONGLORA_RESULTS_FILE";

    /** The operator owns these; a pod template overlay's env entry with one of these names is dropped. */
    public static final Set<String> RESERVED = Set.of(
            NNODES,
            NODE_RANK,
            GPUS_PER_NODE,
            WORLD_SIZE,
            MASTER_ADDR,
            MASTER_PORT,
            ZERO_STAGE,
            CHECKPOINT_DIR,
            RESUME_FROM,
            JOB_NAME,
            NAMESPACE,
            POD_NAME,
            RESTART,
            RESULTS_FILE);

    /** Not set by the operator: a local switch of the trainer's compute backend (cpu or cuda). */
    public static final String BACKEND = "LONGLORA_BACKEND";

    /** Rendezvous port on pod 0 unless spec.distributed.masterPort says otherwise. */
    public static final int DEFAULT_MASTER_PORT = 29500;

    /** RESUME_FROM's default and the operator's choice for every pod: the newest complete checkpoint. */
    public static final String RESUME_LATEST = "latest";

    private TrainerEnv() {}
}

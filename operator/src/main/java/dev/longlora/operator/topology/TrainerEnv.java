package dev.longlora.operator.topology;

import java.util.Set;

/** Names of the environment variables of contract section 3. */
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

    /** The operator owns these; an overlay env entry with one of these names is dropped. */
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
            POD_NAME);

    public static final String CHECKPOINT_MOUNT = "/checkpoints";
    public static final String CONFIG_MOUNT = "/etc/longlora";
    public static final String CONFIG_FILE = "job.json";
    public static final String RESUME_LATEST = "latest";

    private TrainerEnv() {}
}

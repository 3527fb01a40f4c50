package dev.longlora.contract;

import java.util.List;

/** Where a trainer pod finds its config and checkpoint volume, and how it is started (contract section 2). */
public final class PodPaths {
    /** The job's ConfigMap, mounted read-only. */
    public static final String CONFIG_MOUNT = "/etc/longlora";
    /** The ConfigMap key and file name of the resolved config. */
    public static final String CONFIG_FILE = "job.json";

    public static final String CONFIG_PATH = CONFIG_MOUNT + "/" + CONFIG_FILE;
    /** The checkpoint claim; also $CHECKPOINT_DIR. */
    public static final String CHECKPOINT_MOUNT = "/checkpoints";
    /**
     * The trainer container's terminationMessagePath (Kubernetes' default, pinned): rank 0 writes its
     * {@link ResultsReport} there last, the kubelet keeps it in the terminated container's state, and the operator
     * reads it from there: no RBAC, and it outlives the container. The pod's env names it in
     * {@link TrainerEnv#RESULTS_FILE}.
     */
    public static final String TERMINATION_MESSAGE_PATH = "/dev/termination-log";
    /** The trainer container's name in every pod. */
    public static final String TRAINER_CONTAINER = "trainer";

    private PodPaths() {}

    /** The container's arguments: the image's entrypoint is the `longlora` launcher. */
    public static List<String> trainerArgs() {
        return List.of("train", "--config", CONFIG_PATH);
    }
}

package dev.longlora.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;

/** One write the reconciler decided on; the planner only decides, {@link PlanExecutor} writes. */
public sealed interface Action {
    /** Server-side apply of an owned supporting object that is missing or differs. */
    record Apply(HasMetadata object) implements Action {}

    /** Create a gang pod that does not exist (pods are never updated: their spec is immutable). */
    record CreatePod(Pod pod) implements Action {}

    /**
     * Delete a gang pod. gracePeriodSeconds null: the pod's own terminationGracePeriodSeconds (the trainer finishes
     * its step and saves a checkpoint on SIGTERM); {@link #TEARDOWN_GRACE_SECONDS} for the survivors of a failed
     * worker, whose collectives can no longer complete, so waiting for a save would only delay the restart.
     */
    record DeletePod(String name, String why, Long gracePeriodSeconds) implements Action {
        /**
         * Not 0: the API server treats 0 as a force delete, removing the pod object before its container has
         * stopped, so the next gang's pod of the same name (and DNS name, and checkpoint volume) could start next to
         * a still-running survivor. 1 second keeps the kubelet's confirmation (the planner waits for the old gang
         * to be gone) and kills the trainer after the kubelet's minimum of about 2 seconds.
         */
        public static final long TEARDOWN_GRACE_SECONDS = 1;

        public DeletePod(String name, String why) {
            this(name, why, null);
        }

        /** Stopped at once (SIGKILL after the minimal grace): the gang is torn down because a worker failed. */
        public static DeletePod now(String name, String why) {
            return new DeletePod(name, why, TEARDOWN_GRACE_SECONDS);
        }
    }

    /** A Kubernetes Event on the job. */
    record RecordEvent(String type, String reason, String message) implements Action {
        public static RecordEvent normal(String reason, String message) {
            return new RecordEvent("Normal", reason, message);
        }

        public static RecordEvent warning(String reason, String message) {
            return new RecordEvent("Warning", reason, message);
        }
    }

    /** ttlSecondsAfterFinished has passed: delete the job (owner references take its objects with it). */
    record DeleteJob() implements Action {}
}

package dev.longlora.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;

/** One write the reconciler decided on; the planner only decides, {@link PlanExecutor} writes. */
public sealed interface Action {
    /** Server-side apply of an owned supporting object that is missing or differs. */
    record Apply(HasMetadata object) implements Action {}

    /** Create a gang pod that does not exist (pods are never updated: their spec is immutable). */
    record CreatePod(Pod pod) implements Action {}

    record DeletePod(String name, String why) implements Action {}

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

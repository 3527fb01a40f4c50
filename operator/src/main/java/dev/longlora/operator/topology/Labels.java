package dev.longlora.operator.topology;

import java.util.LinkedHashMap;
import java.util.Map;

/** Labels that select a job's objects and tell its pods apart. */
public final class Labels {
    public static final String JOB = "longlora.dev/job-name";
    public static final String NODE_INDEX = "longlora.dev/node-index";
    /** The gang's restart generation (status.restarts when the pods were created). */
    public static final String RESTART = "longlora.dev/restart";

    public static final String NAME = "app.kubernetes.io/name";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String OPERATOR = "longlora-operator";

    private Labels() {}

    /** On every object the operator creates for a job: the informers select on {@link #JOB}. */
    public static Map<String, String> forJob(String job) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NAME, "longlora-trainer");
        labels.put(MANAGED_BY, OPERATOR);
        labels.put(JOB, job);
        return labels;
    }

    public static Map<String, String> forPod(String job, int nodeIndex, int restartGeneration) {
        Map<String, String> labels = forJob(job);
        labels.put(NODE_INDEX, Integer.toString(nodeIndex));
        labels.put(RESTART, Integer.toString(restartGeneration));
        return labels;
    }
}

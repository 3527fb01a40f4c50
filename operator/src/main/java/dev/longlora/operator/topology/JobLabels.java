package dev.longlora.operator.topology;

import dev.longlora.contract.Labels;
import java.util.LinkedHashMap;
import java.util.Map;

/** The label sets that select a job's objects and tell its pods apart (keys from the contract's {@link Labels}). */
public final class JobLabels {
    private JobLabels() {}

    /** On every object the operator creates for a job: the informers select on {@link Labels#JOB}. */
    public static Map<String, String> forJob(String job) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.NAME, Labels.TRAINER_NAME);
        labels.put(Labels.MANAGED_BY, Labels.OPERATOR_NAME);
        labels.put(Labels.JOB, job);
        return labels;
    }

    public static Map<String, String> forPod(String job, int nodeIndex, int restartGeneration) {
        Map<String, String> labels = forJob(job);
        labels.put(Labels.NODE_INDEX, Integer.toString(nodeIndex));
        labels.put(Labels.RESTART, Integer.toString(restartGeneration));
        return labels;
    }
}

package dev.longlora.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Kubernetes-form conditions. A type appears the first time it becomes True and is kept (True or False) after;
 * lastTransitionTime moves only when the status flips, so an unchanged job keeps byte-identical conditions.
 */
public final class Conditions {
    public static final String CREATED = "Created";
    public static final String RUNNING = "Running";
    public static final String RESTARTING = "Restarting";
    public static final String SUSPENDED = "Suspended";
    public static final String SUCCEEDED = "Succeeded";
    public static final String FAILED = "Failed";
    public static final List<String> ORDER = List.of(CREATED, RUNNING, RESTARTING, SUSPENDED, SUCCEEDED, FAILED);

    private Conditions() {}

    public static List<Condition> set(
            List<Condition> current,
            String type,
            boolean value,
            String reason,
            String message,
            long generation,
            String now) {
        List<Condition> out = new ArrayList<>(current == null ? List.of() : current);
        String status = value ? "True" : "False";
        for (int i = 0; i < out.size(); i++) {
            Condition c = out.get(i);
            if (type.equals(c.getType())) {
                boolean flipped = !status.equals(c.getStatus());
                if (!flipped
                        && Objects.equals(reason, c.getReason())
                        && Objects.equals(message, c.getMessage())
                        && Objects.equals(generation, c.getObservedGeneration())) {
                    return out;
                }
                out.set(
                        i,
                        condition(
                                type, status, reason, message, generation, flipped ? now : c.getLastTransitionTime()));
                return out;
            }
        }
        if (value) {
            out.add(condition(type, status, reason, message, generation, now));
            out.sort((a, b) -> Integer.compare(ORDER.indexOf(a.getType()), ORDER.indexOf(b.getType())));
        }
        return out;
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return conditions != null
                && conditions.stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static Condition condition(
            String type, String status, String reason, String message, long generation, String time) {
        return new ConditionBuilder()
                .withType(type)
                .withStatus(status)
                .withReason(reason)
                .withMessage(message)
                .withObservedGeneration(generation)
                .withLastTransitionTime(time)
                .build();
    }
}

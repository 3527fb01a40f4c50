package dev.longlora.operator.reconcile;

import dev.longlora.operator.api.LongLoRAJobStatus;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What one reconcile decided: the writes, the job's new status, and when to look again without an event. */
public record Plan(List<Action> actions, LongLoRAJobStatus status, Optional<Duration> requeueAfter) {

    public <A extends Action> List<A> actions(Class<A> type) {
        return actions.stream().filter(type::isInstance).map(type::cast).toList();
    }
}

package dev.longlora.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** What the cluster holds for one job: its pods and the supporting objects, keyed by kind and name. */
public record Observed(List<Pod> pods, Map<String, HasMetadata> objects) {

    public static Observed of(Collection<Pod> pods, Collection<? extends HasMetadata> objects) {
        return new Observed(
                List.copyOf(pods),
                objects.stream().collect(Collectors.toMap(Observed::key, Function.identity(), (a, b) -> a)));
    }

    public static Observed empty() {
        return new Observed(List.of(), Map.of());
    }

    public HasMetadata current(HasMetadata desired) {
        return objects.get(key(desired));
    }

    static String key(HasMetadata o) {
        return o.getKind() + "/" + o.getMetadata().getName();
    }
}

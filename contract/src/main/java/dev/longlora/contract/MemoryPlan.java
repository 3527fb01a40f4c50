package dev.longlora.contract;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory planner's estimate for one job ({@link MemoryPlanner}): named terms in bytes per GPU (per trainer
 * process for a CPU job) and their sum.
 *
 * @param device where the terms live: {@code gpu} or {@code cpu}
 * @param terms every term, in the order the planner documents them
 */
public record MemoryPlan(String device, List<MemoryTerm> terms) {

    public MemoryPlan {
        terms = List.copyOf(terms);
    }

    /** The estimate: the sum of every term. */
    public long perGpuBytes() {
        return terms.stream().mapToLong(MemoryTerm::bytes).sum();
    }

    /** The bytes of each term by name, in order. */
    public Map<String, Long> termBytes() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (MemoryTerm t : terms) m.put(t.name(), t.bytes());
        return m;
    }

    /** The term of the given name; fails naming the known ones. */
    public MemoryTerm term(String name) {
        return terms.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no memory term '" + name + "': terms are "
                        + termBytes().keySet()));
    }

    /** The largest term (what to shrink first when the job does not fit). */
    public MemoryTerm largest() {
        return terms.stream().max(Comparator.comparingLong(MemoryTerm::bytes)).orElseThrow();
    }

    /** Whether the estimate fits in {@code capacityBytes} of memory per GPU. */
    public boolean fits(long capacityBytes) {
        return perGpuBytes() <= capacityBytes;
    }
}

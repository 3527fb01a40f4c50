package dev.longlora.trainer.demo;

import java.util.List;

/** One generated training or evaluation sequence and the long-range dependencies it contains. */
public record Document(Kind kind, int[] tokens, List<Dependency> dependencies) {
    public enum Kind {
        RECORDS,
        PASSKEY,
        REPEATS,
        PACKED
    }

    public Document {
        dependencies = List.copyOf(dependencies);
    }

    public int length() {
        return tokens.length;
    }

    public int longestDependency() {
        return dependencies.stream().mapToInt(Dependency::distance).max().orElse(0);
    }
}

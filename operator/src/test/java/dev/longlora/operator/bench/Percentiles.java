package dev.longlora.operator.bench;

import java.util.Arrays;
import java.util.Collection;

/** Nearest-rank percentiles of a set of durations in milliseconds. */
public record Percentiles(int count, double p50, double p90, double p99, double max) {

    public static Percentiles of(Collection<Double> millis) {
        if (millis.isEmpty()) {
            return new Percentiles(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] sorted = millis.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return new Percentiles(
                sorted.length, rank(sorted, 50), rank(sorted, 90), rank(sorted, 99), sorted[sorted.length - 1]);
    }

    private static double rank(double[] sorted, double percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    @Override
    public String toString() {
        return String.format("n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms max=%.1f ms", count, p50, p90, p99, max);
    }
}

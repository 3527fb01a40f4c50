package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trainable parameters laid end to end in one flat buffer, in the model's order: the unit collectives move and
 * ZeRO partitions (shard r of the buffer, which may split a parameter between ranks).
 */
final class FlatLayout {
    private final List<Parameter> params;
    private final int[] offsets;
    private final int length;

    FlatLayout(List<Parameter> params) {
        this.params = List.copyOf(params);
        this.offsets = new int[params.size()];
        long total = 0;
        for (int i = 0; i < params.size(); i++) {
            offsets[i] = (int) total;
            total += params.get(i).numel();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    total + " trainable values do not fit one flat buffer (at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        this.length = (int) total;
    }

    int length() {
        return length;
    }

    List<Parameter> params() {
        return params;
    }

    int offset(int param) {
        return offsets[param];
    }

    /**
     * Consecutive runs of whole parameters, each {@code [first, end)} in parameter indices, of at most {@code
     * maxValues} values (a larger parameter is a run of its own): the buckets of a bucketed all-reduce.
     */
    List<int[]> buckets(int maxValues) {
        List<int[]> out = new ArrayList<>();
        int first = 0;
        long size = 0;
        for (int i = 0; i < params.size(); i++) {
            long n = params.get(i).numel();
            if (i > first && size + n > maxValues) {
                out.add(new int[] {first, i});
                first = i;
                size = 0;
            }
            size += n;
        }
        if (first < params.size()) out.add(new int[] {first, params.size()});
        return out;
    }

    /** Where parameter {@code end} would start: the flat offset just past parameters {@code [.., end)}. */
    int offsetAfter(int end) {
        return end == params.size() ? length : offsets[end];
    }

    /** The gradients of parameters {@code [first, end)} end to end. */
    float[] gradients(Backend backend, int first, int end) {
        float[] flat = new float[offsetAfter(end) - offsets[first]];
        for (int i = first; i < end; i++) {
            float[] g = backend.download(params.get(i).grad());
            System.arraycopy(g, 0, flat, offsets[i] - offsets[first], g.length);
        }
        return flat;
    }

    float[] values(Backend backend) {
        float[] flat = new float[length];
        for (int i = 0; i < params.size(); i++) {
            float[] v = backend.download(params.get(i).value());
            System.arraycopy(v, 0, flat, offsets[i], v.length);
        }
        return flat;
    }

    /** Writes {@code bucket} (parameters {@code [first, end)} end to end) into their gradient tensors. */
    void uploadGradients(Backend backend, float[] bucket, int first, int end) {
        for (int i = first; i < end; i++) {
            int n = (int) params.get(i).numel();
            int at = offsets[i] - offsets[first];
            backend.upload(params.get(i).grad(), Arrays.copyOfRange(bucket, at, at + n));
        }
    }

    void uploadValues(Backend backend, float[] flat) {
        for (int i = 0; i < params.size(); i++) {
            backend.upload(params.get(i).value(), slice(flat, i));
        }
    }

    float[] slice(float[] flat, int param) {
        int n = (int) params.get(param).numel();
        float[] out = new float[n];
        System.arraycopy(flat, offsets[param], out, 0, n);
        return out;
    }
}

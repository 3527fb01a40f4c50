package dev.longlora.trainer.io;

import java.util.Arrays;
import java.util.Objects;

/** A dense row-major fp32 tensor in host memory: what goes into and comes out of the file formats. */
public record TensorData(int[] shape, float[] values) {

    public TensorData {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        long n = numel(shape);
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements but "
                    + values.length + " values were given");
        }
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public static TensorData of(float[] values, int... shape) {
        return new TensorData(shape.clone(), values);
    }

    public int numel() {
        return values.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "TensorData" + Arrays.toString(shape);
    }
}

package dev.longlora.trainer.io;

import java.util.Arrays;

/**
 * One tensor's header entry: name, dtype, shape and its byte range relative to the start of the data section.
 * Instances are only created from a validated header, so the invariants hold.
 */
public record TensorEntry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    /** The shape as ints (every dimension of the tensors this trainer handles fits an int). */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < shape.length; i++) s[i] = Math.toIntExact(shape[i]);
        return s;
    }

    /** The shape as ints, or null when a dimension does not fit an int. */
    public int[] intShapeOrNull() {
        for (long d : shape) if (d > Integer.MAX_VALUE) return null;
        return intShape();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + "," + end + ")";
    }
}

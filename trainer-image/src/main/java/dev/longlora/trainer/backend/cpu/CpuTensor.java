package dev.longlora.trainer.backend.cpu;

import dev.longlora.trainer.backend.Tensor;
import java.util.Arrays;

/** A tensor in a Java float array, owned by a {@link CpuBackend}. */
final class CpuTensor implements Tensor {
    final float[] data;
    private final int[] shape;
    private final CpuBackend owner;
    private boolean closed;

    CpuTensor(CpuBackend owner, int[] shape, long numel) {
        this.owner = owner;
        this.shape = shape.clone();
        this.data = new float[Math.toIntExact(numel)];
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public long numel() {
        return data.length;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.released(this);
        }
    }

    @Override
    public String toString() {
        return "CpuTensor" + Arrays.toString(shape);
    }
}

package dev.longlora.trainer.backend.cuda;

import dev.longlora.trainer.backend.Tensor;
import java.util.Arrays;

/** A dense row-major fp32 tensor in device memory, a block of a {@link CudaBackend}'s memory pool. */
final class CudaTensor implements Tensor {
    private final CudaBackend owner;
    private final int[] shape;
    private final long numel;
    final DeviceMemoryPool.Block block;
    private boolean closed;

    CudaTensor(CudaBackend owner, int[] shape, long numel, DeviceMemoryPool.Block block) {
        this.owner = owner;
        this.shape = shape.clone();
        this.numel = numel;
        this.block = block;
    }

    /** The device address of the first element. */
    long address() {
        if (closed) {
            throw new IllegalStateException("use of a closed tensor " + this);
        }
        return block.address();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public long numel() {
        return numel;
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
        return "CudaTensor" + Arrays.toString(shape);
    }
}

package dev.longlora.trainer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

/**
 * A caching device allocator: freed blocks go to a free list keyed by their rounded size and are reused, so a
 * training step allocates from the driver only in its first iteration. All work runs on one stream, so a block
 * handed back while kernels still use it is only reused by later work on the same stream (stream order).
 */
final class DeviceMemoryPool {
    /** A device allocation: the JCuda pointer (for memcpy/memset) and its raw address (for kernel arguments). */
    record Block(CUdeviceptr pointer, long address, long bytes) {}

    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long reserved;

    /** Sizes round up to 512 bytes below 1 MiB and to 2 MiB above, which keeps the number of distinct sizes small. */
    static long roundUp(long bytes) {
        long unit = bytes < (1L << 20) ? 512 : (2L << 20);
        return Math.max(unit, (bytes + unit - 1) / unit * unit);
    }

    Block acquire(long bytes) {
        long size = roundUp(bytes);
        ArrayDeque<Block> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            return list.pop();
        }
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, size);
        } catch (CudaException e) {
            if (!e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) {
                throw e;
            }
            trim();
            try {
                cuMemAlloc(p, size);
            } catch (CudaException again) {
                throw new OutOfMemoryError(
                        "GPU out of memory allocating " + size + " bytes with " + reserved
                                + " bytes already held by live tensors; shorten the context length or enable ZeRO/checkpointing");
            }
        }
        reserved += size;
        return new Block(p, CudaDevice.address(p), size);
    }

    void release(Block b) {
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b);
    }

    /** Returns every cached free block to the driver. */
    void trim() {
        for (ArrayDeque<Block> list : free.values()) {
            for (Block b : list) {
                cuMemFree(b.pointer());
                reserved -= b.bytes();
            }
            list.clear();
        }
    }

    /** Bytes obtained from the driver, in use or cached. */
    long reservedBytes() {
        return reserved;
    }
}

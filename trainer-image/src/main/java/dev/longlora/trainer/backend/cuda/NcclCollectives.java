package dev.longlora.trainer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamQuery;

import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.LostPeerException;
import dev.longlora.trainer.dist.Shard;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;

/**
 * The collectives seam over NCCL, one communicator per GPU rank. The seam's buffers are host arrays, so each call
 * stages through one device buffer: copy in, run NCCL on the rank's stream, copy out. That costs two PCIe copies per
 * call, which the device-resident gradient path will remove; the sums are NCCL's (its own fixed order for a given
 * topology and NCCL version, not the TCP ring's). Every call waits at most the collective timeout: NCCL's
 * asynchronous error or the deadline aborts the communicator and ends the call with a {@link LostPeerException}
 * (exit 10), never a hang.
 */
final class NcclCollectives implements Collectives {
    private final Nccl nccl;
    private final CudaDevice device;
    private final int rank;
    private final int world;
    private final Duration timeout;
    private long comm;
    private CUdeviceptr staging;
    private long stagingFloats;

    private NcclCollectives(Nccl nccl, CudaDevice device, long comm, int rank, int world, Duration timeout) {
        this.nccl = nccl;
        this.device = device;
        this.comm = comm;
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
    }

    /**
     * Forms the NCCL communicator of the gang that {@code host} (the TCP ring or the in-JVM gang, already formed)
     * connects: rank 0 makes NCCL's unique id and broadcasts it over {@code host}, then every rank joins on its own
     * thread and device. {@code host} stays open for the caller to close.
     */
    static NcclCollectives join(Nccl nccl, CudaDevice device, Collectives host, Duration timeout) {
        byte[] id = host.rank() == 0 ? nccl.uniqueId() : new byte[Nccl.UNIQUE_ID_BYTES];
        float[] carried = toFloats(id);
        host.broadcast(carried, 0);
        id = toBytes(carried);
        host.barrier(); // every rank is here, so NCCL's own bootstrap waits for no one who is missing
        device.makeCurrent();
        long comm = nccl.commInitRank(host.worldSize(), id, host.rank());
        return new NcclCollectives(nccl, device, comm, host.rank(), host.worldSize(), timeout);
    }

    /** Two bytes per float: small integers are exact in a float, whatever the transport does with NaN patterns. */
    static float[] toFloats(byte[] bytes) {
        float[] f = new float[(bytes.length + 1) / 2];
        for (int i = 0; i < bytes.length; i++) {
            f[i / 2] += (i % 2 == 0 ? 1 : 256) * (bytes[i] & 0xff);
        }
        return f;
    }

    static byte[] toBytes(float[] carried) {
        byte[] b = new byte[Nccl.UNIQUE_ID_BYTES];
        for (int i = 0; i < b.length; i++) {
            int v = (int) carried[i / 2];
            b[i] = (byte) (i % 2 == 0 ? v & 0xff : (v >> 8) & 0xff);
        }
        return b;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    @Override
    public void allReduce(float[] buffer) {
        if (buffer.length == 0) return;
        long d = stageIn(buffer, 0, buffer.length);
        nccl.allReduceSum(d, d, buffer.length, comm, stream());
        await("allReduce");
        stageOut(buffer, 0, buffer.length);
    }

    @Override
    public void reduceScatter(float[] buffer, int[] bounds) {
        Shard.requireBounds(bounds, buffer.length, world);
        if (buffer.length == 0) return;
        long d = stageIn(buffer, 0, buffer.length);
        // Uneven parts: one reduce per part to its owner, fused by a group into one launch.
        perPartToItsOwner(d, bounds, (at, n, owner) -> nccl.reduceSum(at, at, n, owner, comm, stream()));
        await("reduceScatter");
        stageOut(buffer, bounds[rank], bounds[rank + 1]);
    }

    @Override
    public void allGather(float[] buffer) {
        if (buffer.length == 0) return;
        int[] bounds = Shard.bounds(buffer.length, world);
        // only this rank's part matters: the owners' broadcasts overwrite the rest
        long d = stageIn(buffer, bounds[rank], bounds[rank + 1]);
        perPartToItsOwner(d, bounds, (at, n, owner) -> nccl.broadcast(at, at, n, owner, comm, stream()));
        await("allGather");
        stageOut(buffer, 0, buffer.length);
    }

    /** One NCCL call on each non-empty part [bounds[r], bounds[r+1]) of the staged buffer, grouped into one launch. */
    private void perPartToItsOwner(long staged, int[] bounds, PartCall call) {
        nccl.groupStart();
        try {
            for (int r = 0; r < world; r++) {
                long n = bounds[r + 1] - bounds[r];
                if (n > 0) call.run(staged + (long) bounds[r] * Sizeof.FLOAT, n, r);
            }
        } finally {
            nccl.groupEnd();
        }
    }

    private interface PartCall {
        void run(long address, long count, int owner);
    }

    @Override
    public void broadcast(float[] buffer, int root) {
        if (buffer.length == 0) return;
        long d = stageIn(buffer, 0, buffer.length);
        nccl.broadcast(d, d, buffer.length, root, comm, stream());
        await("broadcast");
        stageOut(buffer, 0, buffer.length);
    }

    @Override
    public void barrier() {
        allReduce(new float[1]);
    }

    @Override
    public void close() {
        if (comm != 0) {
            device.makeCurrent();
            try {
                nccl.commDestroy(comm);
            } catch (NcclException e) {
                nccl.commAbort(comm);
            }
            comm = 0;
        }
        if (staging != null) {
            cuMemFree(staging);
            staging = null;
        }
    }

    private long stream() {
        return CudaDevice.address(device.stream);
    }

    /** Copies buffer[from, to) to the same offsets of the staging buffer; returns the staging buffer's address. */
    private long stageIn(float[] buffer, int from, int to) {
        if (comm == 0) {
            throw new LostPeerException(-1, "collective", "this rank's NCCL communicator was aborted earlier");
        }
        device.makeCurrent();
        if (stagingFloats < buffer.length) {
            if (staging != null) cuMemFree(staging);
            staging = new CUdeviceptr();
            cuMemAlloc(staging, (long) buffer.length * Sizeof.FLOAT);
            stagingFloats = buffer.length;
        }
        if (to > from) {
            cuMemcpyHtoD(
                    staging.withByteOffset((long) from * Sizeof.FLOAT),
                    Pointer.to(buffer).withByteOffset((long) from * Sizeof.FLOAT),
                    (long) (to - from) * Sizeof.FLOAT);
        }
        return CudaDevice.address(staging);
    }

    private void stageOut(float[] buffer, int from, int to) {
        if (to > from) {
            cuMemcpyDtoH(
                    Pointer.to(buffer).withByteOffset((long) from * Sizeof.FLOAT),
                    staging.withByteOffset((long) from * Sizeof.FLOAT),
                    (long) (to - from) * Sizeof.FLOAT);
        }
    }

    /**
     * Waits for the stream to drain, watching NCCL's asynchronous error and the collective timeout; either aborts the
     * communicator (a collective with a dead peer never completes) and ends the call as a lost peer.
     */
    private void await(String operation) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!streamDone()) {
            int error = nccl.asyncError(comm);
            if (error != 0) {
                abort();
                throw new LostPeerException(
                        -1, operation, "NCCL reported " + nccl.errorString(error) + " (status " + error + ")");
            }
            if (System.nanoTime() > deadline) {
                abort();
                throw new LostPeerException(
                        -1,
                        operation,
                        "no completion within the collective timeout of " + timeout.toSeconds()
                                + " s (distributed.collectiveTimeoutSeconds)");
            }
            LockSupport.parkNanos(50_000);
        }
    }

    private boolean streamDone() {
        try {
            cuStreamQuery(device.stream);
            return true;
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains("CUDA_ERROR_NOT_READY")) return false;
            throw e;
        }
    }

    private void abort() {
        try {
            nccl.commAbort(comm);
        } finally {
            comm = 0;
        }
    }
}

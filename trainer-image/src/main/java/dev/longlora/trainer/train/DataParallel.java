package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import java.util.Map;

/**
 * This rank's part of a data-parallel optimizer step, after its local backward passes. ZeRO stage 0: gradients
 * all-reduced, every rank runs the whole AdamW update. Stage 1: gradients all-reduced, each rank updates only its
 * shard with its shard of the optimizer state, then the parameters are all-gathered. Stage 2: as 1, but gradients are
 * reduce-scattered (each rank receives only its shard's sums). Stage 3 synchronizes like stage 2; what it adds, the
 * partitioned frozen weights, is {@link PartitionedWeights}. The clipping norm is global: each rank's squared sum
 * over its shard, summed over the ranks in rank order, so every stage and rank clips by the same factor.
 */
final class DataParallel {
    private final Collectives comm;
    private final int zeroStage;
    private final Backend backend;
    private final FlatLayout layout;
    private final Shard shard;
    private final ShardedAdamW sharded;

    DataParallel(Collectives comm, int zeroStage, Backend backend, FlatLayout layout, AdamWConfig adamw) {
        if (zeroStage < 0 || zeroStage > 3) {
            throw new IllegalArgumentException("ZeRO stage " + zeroStage + " does not exist (0..3)");
        }
        this.comm = comm;
        this.zeroStage = zeroStage;
        this.backend = backend;
        this.layout = layout;
        this.shard = Shard.of(layout.length(), comm.worldSize(), comm.rank());
        this.sharded = zeroStage >= 1 ? new ShardedAdamW(backend, layout, adamw, comm) : null;
    }

    Collectives comm() {
        return comm;
    }

    boolean shardsOptimizer() {
        return sharded != null;
    }

    /** Sums over the ranks, in rank order: the same value on every rank. */
    double[] sum(double... values) {
        return comm.sumDoubles(values);
    }

    /**
     * Synchronizes the gradients, clips them by the global norm and applies AdamW ({@code fullUpdate} for stage 0,
     * this rank's shard otherwise). Returns the global norm before clipping.
     */
    double step(double lr, double maxGradNorm, AdamW fullUpdate) {
        float[] grads = layout.gradients(backend);
        if (zeroStage >= 2) {
            comm.reduceScatter(grads);
        } else {
            comm.allReduce(grads);
        }
        double squares = 0;
        for (int i = shard.start(); i < shard.end(); i++) {
            squares += (double) grads[i] * grads[i];
        }
        double norm = Math.sqrt(comm.sumDoubles(squares)[0]);
        boolean clip = maxGradNorm > 0 && norm > maxGradNorm;
        float factor = clip ? (float) (maxGradNorm / (norm + 1e-6)) : 1f;
        if (sharded == null) {
            if (clip) {
                for (int i = 0; i < grads.length; i++) grads[i] *= factor;
            }
            layout.uploadGradients(backend, grads);
            fullUpdate.step(lr);
            return norm;
        }
        if (clip) {
            for (int i = shard.start(); i < shard.end(); i++) grads[i] *= factor;
        }
        float[] values = layout.values(backend);
        sharded.step(values, grads, lr);
        comm.allGather(values);
        layout.uploadValues(backend, values);
        return norm;
    }

    ShardedAdamW sharded() {
        return sharded;
    }

    Map<String, AdamW.ParamState> exportOptimizerState() {
        return sharded.exportState();
    }

    void importOptimizerState(Map<String, AdamW.ParamState> state) {
        sharded.importState(state);
    }
}

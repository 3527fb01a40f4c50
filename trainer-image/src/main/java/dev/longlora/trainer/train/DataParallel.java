package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.checkpoint.OptimizerManifest;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import dev.longlora.trainer.model.LlamaModel;
import java.util.Map;

/**
 * This rank's part of a data-parallel optimizer step, after its local backward passes. ZeRO stage 0: gradients
 * all-reduced (in buckets of {@link #BUCKET_VALUES}), every rank runs the whole AdamW update. Stage 1: gradients all-reduced, each rank updates only its
 * shard with its shard of the optimizer state, then the parameters are all-gathered. Stage 2: as 1, but the
 * gradients were already reduce-scattered layer by layer during backward ({@link PartitionedGradients}), so each
 * rank holds only its shard's sums. Stage 3 synchronizes like stage 2; what it adds, the partitioned frozen weights,
 * is {@link PartitionedWeights}. The clipping norm is global: each rank's squared sum
 * over its shard, summed over the ranks in rank order, so every stage and rank clips by the same factor.
 */
final class DataParallel implements AutoCloseable {
    /**
     * Stages 0 and 1 all-reduce the gradients in buckets of whole parameters of at most this many values (4 Mi fp32
     * values, 16 MiB, a larger parameter alone), so the host copy a collective works on stays one bucket, not the
     * whole trainable set. Each bucket is reduced on its own, so the sums' float order depends on the bucket size;
     * it is fixed here, not configurable, so a world size stays reproducible.
     */
    static final int BUCKET_VALUES = 1 << 22;

    private final Collectives comm;
    private final int zeroStage;
    private final Backend backend;
    private final FlatLayout layout;
    private final Shard shard;
    private final ShardedAdamW sharded;
    /** Stage 2+: this rank's gradient shard, reduced during backward; null below. */
    private final PartitionedGradients gradients;

    private final int bucketValues;

    /** {@code model}: the rank's model; from stage 2 its whole gradients are replaced by this rank's shard now. */
    DataParallel(Collectives comm, int zeroStage, LlamaModel model, FlatLayout layout, AdamWConfig adamw) {
        this(comm, zeroStage, model, layout, adamw, BUCKET_VALUES);
    }

    /** As above with another all-reduce bucket size (tests). */
    DataParallel(
            Collectives comm, int zeroStage, LlamaModel model, FlatLayout layout, AdamWConfig adamw, int bucketValues) {
        if (zeroStage < 0 || zeroStage > 3) {
            throw new IllegalArgumentException("ZeRO stage " + zeroStage + " does not exist (0..3)");
        }
        this.comm = comm;
        this.bucketValues = bucketValues;
        this.zeroStage = zeroStage;
        this.backend = model.backend();
        this.layout = layout;
        this.shard = Shard.of(layout.length(), comm.worldSize(), comm.rank());
        this.sharded = zeroStage >= 1 ? new ShardedAdamW(backend, layout, adamw, comm) : null;
        this.gradients = zeroStage >= 2 ? new PartitionedGradients(model, comm, layout) : null;
    }

    /** Starts a step: the gradient shard's sums start at zero (whole gradients are zeroed by the model). */
    void beginStep() {
        if (gradients != null) gradients.zero();
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
        // this rank's shard of the summed gradient: reduced during backward from stage 2, all-reduced here below
        float[] grads = gradients != null ? gradients.shardValues() : allReduceInBuckets();
        double squares = 0;
        for (float g : grads) {
            squares += (double) g * g;
        }
        double norm = Math.sqrt(comm.sumDoubles(squares)[0]);
        boolean clip = maxGradNorm > 0 && norm > maxGradNorm;
        float factor = clip ? (float) (maxGradNorm / (norm + 1e-6)) : 1f;
        if (sharded == null) {
            if (clip) {
                for (var p : layout.params()) backend.scale(p.grad(), factor);
            }
            fullUpdate.step(lr);
            return norm;
        }
        if (clip) {
            for (int i = 0; i < grads.length; i++) grads[i] *= factor;
        }
        float[] values = layout.values(backend);
        sharded.step(values, grads, lr);
        comm.allGather(values);
        layout.uploadValues(backend, values);
        return norm;
    }

    /**
     * Stages 0 and 1: all-reduces the gradients bucket by bucket ({@link #BUCKET_VALUES}); at stage 0 the sums go back
     * into the gradient tensors. Returns this rank's shard of the sums.
     */
    private float[] allReduceInBuckets() {
        float[] own = new float[shard.length()];
        for (int[] b : layout.buckets(bucketValues)) {
            float[] bucket = layout.gradients(backend, b[0], b[1]);
            comm.allReduce(bucket);
            if (sharded == null) layout.uploadGradients(backend, bucket, b[0], b[1]);
            int start = layout.offset(b[0]);
            int from = Math.max(start, shard.start());
            int to = Math.min(start + bucket.length, shard.end());
            if (to > from) System.arraycopy(bucket, from - start, own, from - shard.start(), to - from);
        }
        return own;
    }

    ShardedAdamW sharded() {
        return sharded;
    }

    /** Where each rank's part of the partitioned optimizer state lies, with this run's stage. */
    OptimizerManifest manifest() {
        return sharded.manifest(zeroStage);
    }

    Map<String, AdamW.ParamState> exportOptimizerState() {
        return sharded.exportState();
    }

    void importOptimizerState(Map<String, AdamW.ParamState> state) {
        sharded.importState(state);
    }

    @Override
    public void close() {
        if (sharded != null) sharded.close();
        if (gradients != null) gradients.close();
    }
}

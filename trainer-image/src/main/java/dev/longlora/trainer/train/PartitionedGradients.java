package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import dev.longlora.trainer.model.GradientResidency;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.parameter.Parameter;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * ZeRO stage 2 (and 3) for the gradients: this rank keeps, on its backend, only its shard of the flat trainable
 * gradient ({@link FlatLayout}, the shard its {@link ShardedAdamW} updates), 1/N of the gradient bytes. A weight
 * group's trainable parameters get whole gradient tensors for that group's backward only; right after it, the
 * group's gradients (one bucket) are reduce-scattered along the flat buffer's shard boundaries, each rank adds the
 * part that falls in its shard and the whole tensors are freed. So at most one layer's gradients are whole at a time.
 *
 * <p>Every micro-batch is reduced as its backward runs (as DeepSpeed's stage 2 does), so with gradient accumulation
 * the sums run over ranks first, then micro-batches: the same values as stages 0 and 1 in another float order.
 */
final class PartitionedGradients implements GradientResidency, AutoCloseable {
    private final Backend backend;
    private final Collectives comm;
    private final FlatLayout layout;
    private final Shard shard;
    /** This rank's gradient shard, summed over ranks and micro-batches (null when the shard is empty). */
    private final Tensor part;
    /** For each weight group, its trainable parameters as indices into the layout, in flat order. */
    private final int[][] groupParams;

    /** Frees the model's whole gradient tensors and keeps this rank's shard instead. */
    PartitionedGradients(LlamaModel model, Collectives comm, FlatLayout layout) {
        this.backend = model.backend();
        this.comm = comm;
        this.layout = layout;
        this.shard = Shard.of(layout.length(), comm.worldSize(), comm.rank());
        Map<Parameter, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < layout.params().size(); i++) {
            index.put(layout.params().get(i), i);
        }
        List<List<Parameter>> groups = model.weightGroups();
        this.groupParams = new int[groups.size()][];
        boolean[] covered = new boolean[layout.params().size()];
        for (int g = 0; g < groups.size(); g++) {
            groupParams[g] = groups.get(g).stream()
                    .filter(Parameter::trainable)
                    .mapToInt(index::get)
                    .distinct()
                    .sorted()
                    .toArray();
            for (int i : groupParams[g]) covered[i] = true;
        }
        for (int i = 0; i < layout.params().size(); i++) {
            if (!covered[i]) {
                throw new IllegalStateException(
                        "trainable " + layout.params().get(i).name() + " is in no weight group of the model");
            }
            layout.params().get(i).detachGrad().close();
        }
        this.part = shard.length() > 0 ? backend.allocate(shard.length()) : null;
        model.setGradientResidency(this);
    }

    /** Starts a step's sums at zero. */
    void zero() {
        if (part != null) backend.zero(part);
    }

    /** This rank's shard of the step's gradient (summed over ranks and micro-batches), shard-length. */
    float[] shardValues() {
        return part != null ? backend.download(part) : new float[0];
    }

    Shard shard() {
        return shard;
    }

    @Override
    public void beforeBackward(int group) {
        for (int i : groupParams[group]) {
            Parameter p = layout.params().get(i);
            Tensor whole = backend.allocate(p.shape());
            backend.zero(whole);
            p.attachGrad(whole);
        }
    }

    @Override
    public void afterBackward(int group) {
        int[] params = groupParams[group];
        if (params.length == 0) return;
        int length = 0;
        for (int i : params) length += (int) layout.params().get(i).numel();
        float[] bucket = new float[length];
        int[] bucketOffsets = new int[params.length];
        int at = 0;
        for (int k = 0; k < params.length; k++) {
            Parameter p = layout.params().get(params[k]);
            float[] g = backend.download(p.grad());
            System.arraycopy(g, 0, bucket, at, g.length);
            bucketOffsets[k] = at;
            at += g.length;
            p.detachGrad().close();
        }
        int world = comm.worldSize();
        int[] bounds = new int[world + 1];
        for (int r = 0; r <= world; r++) {
            int flatStart = r == world
                    ? layout.length()
                    : Shard.of(layout.length(), world, r).start();
            bounds[r] = bucketPosition(params, flatStart);
        }
        comm.reduceScatter(bucket, bounds);
        if (part == null) return;
        float[] sums = backend.download(part);
        for (int k = 0; k < params.length; k++) {
            int flat = layout.offset(params[k]);
            int n = (int) layout.params().get(params[k]).numel();
            int from = Math.max(flat, shard.start());
            int to = Math.min(flat + n, shard.end());
            for (int f = from; f < to; f++) {
                sums[f - shard.start()] += bucket[bucketOffsets[k] + f - flat];
            }
        }
        backend.upload(part, sums);
    }

    /** How many of the bucket's values lie before flat position {@code flatStart} (the bucket is in flat order). */
    private int bucketPosition(int[] params, int flatStart) {
        int count = 0;
        for (int k = 0; k < params.length; k++) {
            int flat = layout.offset(params[k]);
            int n = (int) layout.params().get(params[k]).numel();
            count += Math.clamp((long) flatStart - flat, 0, n);
        }
        return count;
    }

    @Override
    public void close() {
        if (part != null) part.close();
    }
}

package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.checkpoint.OptimizerManifest;
import dev.longlora.trainer.checkpoint.OptimizerShard;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW for ZeRO stages 1 to 3: this rank keeps the moments of its shard of the flat trainable buffer only (1/N of
 * the optimizer state, on its backend) and updates that shard with the backend's adamwUpdate, so a sharded step gives
 * the bits an unsharded one would. Checkpoints see the whole state: {@link #exportState}
 * gathers it from every rank, {@link #importState} keeps this rank's part of it, so a checkpoint written at one world
 * size resumes at another.
 */
final class ShardedAdamW implements AutoCloseable {
    private final Backend backend;
    private final FlatLayout layout;
    private final AdamWConfig config;
    private final Collectives comm;
    private final Shard shard;
    /** This rank's moments (null when its shard is empty). */
    private final Tensor m;

    private final Tensor v;
    private long step;

    ShardedAdamW(Backend backend, FlatLayout layout, AdamWConfig config, Collectives comm) {
        this.backend = backend;
        this.layout = layout;
        this.config = config.validate();
        this.comm = comm;
        this.shard = Shard.of(layout.length(), comm.worldSize(), comm.rank());
        this.m = shard.length() > 0 ? zeros(shard.length()) : null;
        this.v = shard.length() > 0 ? zeros(shard.length()) : null;
    }

    private Tensor zeros(int n) {
        Tensor t = backend.allocate(n);
        backend.zero(t);
        return t;
    }

    Shard shard() {
        return shard;
    }

    /**
     * Updates this rank's shard of {@code values} (flat, full length) from {@code shardGrads} (this rank's shard of the
     * gradient only) through the backend's own {@code adamwUpdate}, so there is one AdamW in the trainer. The moments
     * stay on the backend; the shard of the values goes there for the update.
     */
    void step(float[] values, float[] shardGrads, double lr) {
        step++;
        int n = shard.length();
        if (shardGrads.length != n) {
            throw new IllegalArgumentException("shard of " + n + " values, gradient of " + shardGrads.length);
        }
        if (n == 0) return;
        try (Tensor p = backend.allocate(n);
                Tensor g = backend.allocate(n)) {
            backend.upload(p, Arrays.copyOfRange(values, shard.start(), shard.end()));
            backend.upload(g, shardGrads);
            backend.adamwUpdate(
                    p,
                    g,
                    m,
                    v,
                    (float) lr,
                    (float) config.beta1(),
                    (float) config.beta2(),
                    (float) config.eps(),
                    (float) config.weightDecay(),
                    step);
            System.arraycopy(backend.download(p), 0, values, shard.start(), n);
        }
    }

    /** A copy of this rank's part of the state, for a partitioned checkpoint. */
    OptimizerShard ownPart() {
        return new OptimizerShard(comm.rank(), shard.start(), shard.end(), download(m), download(v), step);
    }

    /** Where every rank's part lies in the flat buffer. */
    OptimizerManifest manifest(int zeroStage) {
        List<OptimizerManifest.Entry> entries = new ArrayList<>();
        for (int i = 0; i < layout.params().size(); i++) {
            var p = layout.params().get(i);
            entries.add(new OptimizerManifest.Entry(p.name(), p.shape(), layout.offset(i)));
        }
        List<OptimizerManifest.Range> ranges = new ArrayList<>();
        for (int r = 0; r < comm.worldSize(); r++) {
            Shard s = Shard.of(layout.length(), comm.worldSize(), r);
            ranges.add(new OptimizerManifest.Range(r, s.start(), s.end()));
        }
        return new OptimizerManifest(comm.worldSize(), zeroStage, step, entries, ranges);
    }

    /** Every parameter's whole state, gathered from all ranks (a collective: every rank calls it). */
    Map<String, AdamW.ParamState> exportState() {
        float[] allM = new float[layout.length()];
        float[] allV = new float[layout.length()];
        System.arraycopy(download(m), 0, allM, shard.start(), shard.length());
        System.arraycopy(download(v), 0, allV, shard.start(), shard.length());
        comm.allGather(allM);
        comm.allGather(allV);
        Map<String, AdamW.ParamState> out = new LinkedHashMap<>();
        for (int i = 0; i < layout.params().size(); i++) {
            out.put(
                    layout.params().get(i).name(),
                    new AdamW.ParamState(layout.slice(allM, i), layout.slice(allV, i), step));
        }
        return out;
    }

    /** Keeps this rank's shard of a whole state (as a checkpoint holds it, written at any world size). */
    void importState(Map<String, AdamW.ParamState> state) {
        float[] allM = new float[layout.length()];
        float[] allV = new float[layout.length()];
        long restoredStep = -1;
        for (int i = 0; i < layout.params().size(); i++) {
            String name = layout.params().get(i).name();
            AdamW.ParamState ps = state.get(name);
            if (ps == null) {
                throw new IllegalArgumentException("optimizer state has no entry for trainable parameter " + name
                        + ": the checkpoint was written with another trainable set");
            }
            long n = layout.params().get(i).numel();
            if (ps.m().length != n || ps.v().length != n) {
                throw new IllegalArgumentException("optimizer state for " + name + " has " + ps.m().length + "/"
                        + ps.v().length + " values but the parameter has " + n);
            }
            if (restoredStep >= 0 && ps.step() != restoredStep) {
                throw new IllegalArgumentException("optimizer state for " + name + " is at step " + ps.step()
                        + ", the others at " + restoredStep + ": sharded AdamW keeps one step count");
            }
            restoredStep = ps.step();
            System.arraycopy(ps.m(), 0, allM, layout.offset(i), (int) n);
            System.arraycopy(ps.v(), 0, allV, layout.offset(i), (int) n);
        }
        if (m != null) {
            backend.upload(m, Arrays.copyOfRange(allM, shard.start(), shard.end()));
            backend.upload(v, Arrays.copyOfRange(allV, shard.start(), shard.end()));
        }
        step = Math.max(0, restoredStep);
    }

    private float[] download(Tensor moments) {
        return moments != null ? backend.download(moments) : new float[0];
    }

    @Override
    public void close() {
        if (m != null) {
            m.close();
            v.close();
        }
    }
}

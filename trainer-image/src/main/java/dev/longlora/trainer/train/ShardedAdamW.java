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
 * AdamW for ZeRO stage 1 and 2: this rank keeps the moments of its shard of the flat trainable buffer only (1/N of
 * the optimizer state) and updates that shard with the backend's adamwUpdate, so a sharded step gives the bits an
 * unsharded one would. Checkpoints see the whole state: {@link #exportState}
 * gathers it from every rank, {@link #importState} keeps this rank's part of it, so a checkpoint written at one world
 * size resumes at another.
 */
final class ShardedAdamW {
    private final Backend backend;
    private final FlatLayout layout;
    private final AdamWConfig config;
    private final Collectives comm;
    private final Shard shard;
    private final float[] m;
    private final float[] v;
    private long step;

    ShardedAdamW(Backend backend, FlatLayout layout, AdamWConfig config, Collectives comm) {
        this.backend = backend;
        this.layout = layout;
        this.config = config.validate();
        this.comm = comm;
        this.shard = Shard.of(layout.length(), comm.worldSize(), comm.rank());
        this.m = new float[shard.length()];
        this.v = new float[shard.length()];
    }

    Shard shard() {
        return shard;
    }

    /**
     * Updates this rank's shard of {@code values} from the same shard of {@code grads} (both flat, full length)
     * through the backend's own {@code adamwUpdate}, so there is one AdamW in the trainer. The moments stay in host
     * arrays (that is what a partitioned checkpoint writes); the shard goes to the backend for the update.
     */
    void step(float[] values, float[] grads, double lr) {
        step++;
        int n = shard.length();
        if (n == 0) return;
        try (Tensor p = backend.allocate(n);
                Tensor g = backend.allocate(n);
                Tensor tm = backend.allocate(n);
                Tensor tv = backend.allocate(n)) {
            backend.upload(p, Arrays.copyOfRange(values, shard.start(), shard.end()));
            backend.upload(g, Arrays.copyOfRange(grads, shard.start(), shard.end()));
            backend.upload(tm, m);
            backend.upload(tv, v);
            backend.adamwUpdate(
                    p,
                    g,
                    tm,
                    tv,
                    (float) lr,
                    (float) config.beta1(),
                    (float) config.beta2(),
                    (float) config.eps(),
                    (float) config.weightDecay(),
                    step);
            System.arraycopy(backend.download(p), 0, values, shard.start(), n);
            System.arraycopy(backend.download(tm), 0, m, 0, n);
            System.arraycopy(backend.download(tv), 0, v, 0, n);
        }
    }

    /** A copy of this rank's part of the state, for a partitioned checkpoint. */
    OptimizerShard ownPart() {
        return new OptimizerShard(comm.rank(), shard.start(), shard.end(), m.clone(), v.clone(), step);
    }

    /** Where every rank's part lies in the flat buffer. */
    OptimizerManifest manifest() {
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
        return new OptimizerManifest(comm.worldSize(), step, entries, ranges);
    }

    /** Every parameter's whole state, gathered from all ranks (a collective: every rank calls it). */
    Map<String, AdamW.ParamState> exportState() {
        float[] allM = new float[layout.length()];
        float[] allV = new float[layout.length()];
        System.arraycopy(m, 0, allM, shard.start(), m.length);
        System.arraycopy(v, 0, allV, shard.start(), v.length);
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
        System.arraycopy(allM, shard.start(), m, 0, m.length);
        System.arraycopy(allV, shard.start(), v, 0, v.length);
        step = Math.max(0, restoredStep);
    }
}

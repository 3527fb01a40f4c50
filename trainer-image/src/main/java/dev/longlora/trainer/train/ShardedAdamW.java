package dev.longlora.trainer.train;

import dev.longlora.trainer.checkpoint.OptimizerManifest;
import dev.longlora.trainer.checkpoint.OptimizerShard;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW for ZeRO stage 1 and 2: this rank keeps the moments of its shard of the flat trainable buffer only (1/N of
 * the optimizer state) and updates that shard. The arithmetic is the CPU backend's adamwUpdate, element for element,
 * so a sharded step gives the bits an unsharded one would. Checkpoints see the whole state: {@link #exportState}
 * gathers it from every rank, {@link #importState} keeps this rank's part of it, so a checkpoint written at one world
 * size resumes at another.
 */
final class ShardedAdamW {
    private final FlatLayout layout;
    private final AdamWConfig config;
    private final Collectives comm;
    private final Shard shard;
    private final float[] m;
    private final float[] v;
    private long step;

    ShardedAdamW(FlatLayout layout, AdamWConfig config, Collectives comm) {
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

    /** Updates this rank's shard of {@code values} from the same shard of {@code grads} (both flat, full length). */
    void step(float[] values, float[] grads, double lr) {
        step++;
        float beta1 = (float) config.beta1();
        float beta2 = (float) config.beta2();
        float eps = (float) config.eps();
        float flr = (float) lr;
        double bc1 = 1.0 - StrictMath.pow(beta1, step);
        double bc2 = 1.0 - StrictMath.pow(beta2, step);
        float stepSize = (float) (flr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = 1f - flr * (float) config.weightDecay();
        for (int i = 0; i < m.length; i++) {
            int j = shard.start() + i;
            float gi = grads[j];
            float mi = beta1 * m[i] + (1f - beta1) * gi;
            float vi = beta2 * v[i] + (1f - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            values[j] = values[j] * decay - stepSize * mi / ((float) Math.sqrt(vi) / bc2Sqrt + eps);
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

package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.WeightResidency;
import dev.longlora.trainer.parameter.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * ZeRO stage 3 for the frozen base weights: each weight group of the model (the embedding, each decoder layer, the
 * head) lays its frozen weights end to end, and this rank keeps only shard r of that flat buffer ({@link Shard}) on
 * its backend, 1/N of the frozen bytes. {@link #acquire} all-gathers a group's weights into whole tensors before the
 * model uses them (forward, backward, recompute), {@link #release} frees them after, so at most the groups in use are
 * whole. Trainable weights (LoRA, and embeddings and norms when trained) stay whole on every rank: they are the
 * small part under LongLoRA, and ZeRO 1-2 already partition their optimizer state.
 *
 * <p>A weight listed by two groups (an LM head tied to a frozen embedding) is partitioned once, in the first group
 * that lists it; acquiring either group gathers it. Gathers move exact copies, so stage 3 trains the bits of stage 2.
 */
final class PartitionedWeights implements WeightResidency, AutoCloseable {

    /** The frozen weights one group owns, and this rank's shard of them (null when the shard is empty). */
    private record Owned(List<Parameter> weights, int[] offsets, int length, Shard shard, Tensor part) {}

    private final Backend backend;
    private final Collectives comm;
    private final List<Owned> owned = new ArrayList<>();
    /** For each group, the owning groups whose weights it reads. */
    private final int[][] reads;

    private final int[] inUse;

    /** Partitions the model's frozen weights now (no communication: every rank holds them whole when this starts). */
    PartitionedWeights(LlamaModel model, Collectives comm) {
        this.backend = model.backend();
        this.comm = comm;
        List<List<Parameter>> groups = model.weightGroups();
        Map<Parameter, Integer> ownerGroup = new IdentityHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            List<Parameter> mine = new ArrayList<>();
            for (Parameter p : groups.get(g)) {
                if (!p.trainable() && ownerGroup.putIfAbsent(p, g) == null) mine.add(p);
            }
            owned.add(partition(mine));
        }
        this.reads = new int[groups.size()][];
        for (int g = 0; g < groups.size(); g++) {
            reads[g] = groups.get(g).stream()
                    .filter(p -> !p.trainable())
                    .mapToInt(ownerGroup::get)
                    .distinct()
                    .sorted()
                    .toArray();
        }
        this.inUse = new int[groups.size()];
        model.setWeightResidency(this);
    }

    private Owned partition(List<Parameter> weights) {
        int[] offsets = new int[weights.size()];
        long total = 0;
        for (int i = 0; i < weights.size(); i++) {
            offsets[i] = (int) total;
            total += weights.get(i).numel();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a layer's " + total + " frozen values do not fit one flat buffer");
        }
        int length = (int) total;
        Shard shard = Shard.of(length, comm.worldSize(), comm.rank());
        Tensor part = null;
        if (shard.length() > 0) {
            float[] flat = new float[length];
            for (int i = 0; i < weights.size(); i++) {
                float[] v = backend.download(weights.get(i).value());
                System.arraycopy(v, 0, flat, offsets[i], v.length);
            }
            part = backend.allocate(shard.length());
            backend.upload(part, Arrays.copyOfRange(flat, shard.start(), shard.end()));
        }
        for (Parameter p : weights) {
            p.detachValue().close();
        }
        return new Owned(List.copyOf(weights), offsets, length, shard, part);
    }

    @Override
    public void acquire(int group) {
        for (int o : reads[group]) {
            if (inUse[o]++ == 0) gather(owned.get(o));
        }
    }

    @Override
    public void release(int group) {
        for (int o : reads[group]) {
            if (inUse[o] <= 0) throw new IllegalStateException("weight group " + o + " released more than acquired");
            if (--inUse[o] == 0) {
                for (Parameter p : owned.get(o).weights()) {
                    p.detachValue().close();
                }
            }
        }
    }

    /** All-gathers one group's frozen weights into whole tensors on this rank's backend. */
    private void gather(Owned o) {
        if (o.length() == 0) return;
        float[] flat = new float[o.length()];
        if (o.part() != null) {
            System.arraycopy(
                    backend.download(o.part()),
                    0,
                    flat,
                    o.shard().start(),
                    o.shard().length());
        }
        comm.allGather(flat);
        for (int i = 0; i < o.weights().size(); i++) {
            Parameter p = o.weights().get(i);
            Tensor whole = backend.allocate(p.shape());
            backend.upload(whole, Arrays.copyOfRange(flat, o.offsets()[i], o.offsets()[i] + (int) p.numel()));
            p.attachValue(whole);
        }
    }

    /** Elements of the frozen weights this rank keeps (its shards), for accounting. */
    long shardElements() {
        return owned.stream().mapToLong(o -> o.shard().length()).sum();
    }

    /** Frees this rank's shards; the frozen weights are gone from the model afterwards. */
    @Override
    public void close() {
        for (Owned o : owned) {
            if (o.part() != null) o.part().close();
        }
    }
}

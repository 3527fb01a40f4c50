package dev.longlora.trainer.model;

/**
 * Where a model's weights are between uses. The model names its weight groups ({@link LlamaModel#weightGroups()}:
 * the embedding, each decoder layer, the head) and brackets every use of a group's weights with {@link #acquire}
 * and {@link #release}, in forward, in backward and in gradient checkpointing's recompute. The default keeps every
 * weight resident; ZeRO-3 keeps only this rank's shard of the frozen weights and gathers a group's on acquire.
 * Every rank of a gang makes the same calls in the same order, so a gathering implementation may use collectives.
 */
public interface WeightResidency {

    /** Every weight stays where it is: acquire and release do nothing. */
    WeightResidency RESIDENT = new WeightResidency() {
        @Override
        public void acquire(int group) {}

        @Override
        public void release(int group) {}
    };

    /** Makes the weights of {@code group} usable until the matching {@link #release}. */
    void acquire(int group);

    /** Ends one use of the weights of {@code group} (an implementation may free them now). */
    void release(int group);
}

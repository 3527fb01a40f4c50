package dev.longlora.trainer.model;

/**
 * Where a model's trainable gradients are between backward passes. The backward pass brackets each weight group's
 * part ({@link LlamaModel#weightGroups()}: the head, the decoder layers from the last, the embedding) with {@link
 * #beforeBackward} and {@link #afterBackward}. The default keeps every gradient whole and accumulating; ZeRO-2/3
 * gives a group whole gradients for its backward only, then reduces them across the ranks, keeps this rank's shard of
 * the sums and frees them. Every rank of a gang makes the same calls in the same order.
 */
public interface GradientResidency {

    /** Every gradient stays whole and accumulates in place. */
    GradientResidency WHOLE = new GradientResidency() {
        @Override
        public void beforeBackward(int group) {}

        @Override
        public void afterBackward(int group) {}
    };

    /** Before the backward pass adds to the trainable gradients of {@code group}: they must be whole from now. */
    void beforeBackward(int group);

    /** After the backward pass has added this pass's share to the gradients of {@code group}. */
    void afterBackward(int group);
}

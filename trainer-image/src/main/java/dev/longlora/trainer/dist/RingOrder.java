package dev.longlora.trainer.dist;

/**
 * The fixed order in which a ring reduce-scatter adds the ranks' values of shard c: rank c+1 first, then c+2, ...,
 * and the shard's owner c last. The in-JVM implementation adds in the same order, so thread ranks and the TCP ring
 * give the same bits for a world size.
 */
final class RingOrder {
    private RingOrder() {}

    /** The k-th rank (k = 1..world) whose value enters the sum of shard {@code shard}. */
    static int contributor(int shard, int k, int world) {
        return (shard + k) % world;
    }
}

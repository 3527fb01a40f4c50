package dev.longlora.trainer.dist;

/** The element range [start, end) of a flat buffer that one rank owns: near-equal contiguous parts in rank order. */
public record Shard(int start, int end) {

    public static Shard of(int length, int world, int rank) {
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank " + rank + " of world " + world);
        }
        return new Shard((int) ((long) length * rank / world), (int) ((long) length * (rank + 1) / world));
    }

    public int length() {
        return end - start;
    }
}

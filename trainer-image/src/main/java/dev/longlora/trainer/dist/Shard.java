package dev.longlora.trainer.dist;

import java.util.Arrays;

/** The element range [start, end) of a flat buffer that one rank owns: near-equal contiguous parts in rank order. */
public record Shard(int start, int end) {

    public static Shard of(int length, int world, int rank) {
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank " + rank + " of world " + world);
        }
        return new Shard((int) ((long) length * rank / world), (int) ((long) length * (rank + 1) / world));
    }

    /** The boundaries of the world's near-equal shards: rank r owns [bounds[r], bounds[r + 1]). */
    public static int[] bounds(int length, int world) {
        int[] bounds = new int[world + 1];
        for (int r = 0; r < world; r++) {
            bounds[r] = of(length, world, r).start();
        }
        bounds[world] = length;
        return bounds;
    }

    /** Rank r's range under {@code bounds} (world + 1 non-decreasing offsets from 0 to the buffer's length). */
    public static Shard of(int[] bounds, int rank) {
        return new Shard(bounds[rank], bounds[rank + 1]);
    }

    /** Fails unless {@code bounds} splits a buffer of {@code length} between {@code world} ranks in rank order. */
    public static void requireBounds(int[] bounds, int length, int world) {
        boolean ok = bounds.length == world + 1 && bounds[0] == 0 && bounds[world] == length;
        for (int r = 0; ok && r < world; r++) {
            ok = bounds[r] <= bounds[r + 1];
        }
        if (!ok) {
            throw new IllegalArgumentException(Arrays.toString(bounds) + " does not split " + length
                    + " values between " + world + " ranks in rank order");
        }
    }

    public int length() {
        return end - start;
    }
}

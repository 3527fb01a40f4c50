package dev.longlora.trainer.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Ranks as threads of one JVM (GPUS_PER_NODE > 0 with the CPU backend): buffers are exchanged through shared
 * memory at meeting points. Sums follow {@link RingOrder}, as the TCP ring's do. A rank that does not arrive within
 * the timeout, or that {@link #abort aborts} (its thread failed), ends every other rank's call with a {@link
 * LostPeerException} naming it.
 */
public final class ThreadRanks {
    private final int world;
    private final long timeoutNanos;
    private final float[][] buffers;
    private final long[] arrivals;
    private long generation;
    private int arrived;
    private int lostRank = -1;
    private String lostReason;

    private ThreadRanks(int world, Duration timeout) {
        this.world = world;
        this.timeoutNanos = timeout.toNanos();
        this.buffers = new float[world][];
        this.arrivals = new long[world];
    }

    /** A gang of {@code world} thread ranks; member r is used by rank r's thread only. */
    public static List<Collectives> gang(int world, Duration timeout) {
        if (world < 1) throw new IllegalArgumentException("world size " + world + " must be >= 1");
        ThreadRanks shared = new ThreadRanks(world, timeout);
        List<Collectives> members = new ArrayList<>(world);
        for (int r = 0; r < world; r++) {
            members.add(shared.new Member(r));
        }
        return List.copyOf(members);
    }

    /** Marks {@code rank} lost: every rank waiting now or calling later fails at once, naming it. */
    private synchronized void abort(int rank, String reason) {
        if (lostRank < 0) {
            lostRank = rank;
            lostReason = reason;
        }
        notifyAll();
    }

    /** Waits until every rank has reached this meeting point (the same count of meetings). */
    private synchronized void meet(int rank, String operation) {
        failIfLost(rank, operation);
        long mine = generation;
        arrivals[rank]++;
        if (++arrived == world) {
            arrived = 0;
            generation++;
            notifyAll();
            return;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        while (generation == mine) {
            failIfLost(rank, operation);
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                int silent = firstBehind(arrivals[rank]);
                abort(
                        silent,
                        "did not reach " + operation + " within "
                                + Duration.ofNanos(timeoutNanos).toSeconds()
                                + " s (distributed.collectiveTimeoutSeconds)");
                failIfLost(rank, operation);
            }
            try {
                wait(Math.max(1, left / 1_000_000), 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort(rank, "its thread was interrupted");
                failIfLost(rank, operation);
            }
        }
    }

    private int firstBehind(long count) {
        for (int r = 0; r < world; r++) {
            if (arrivals[r] < count) return r;
        }
        return 0;
    }

    private void failIfLost(int rank, String operation) {
        if (lostRank >= 0) {
            throw new LostPeerException(lostRank, operation, lostReason + " (seen by rank " + rank + ")");
        }
    }

    private final class Member implements Collectives {
        private final int rank;

        Member(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int worldSize() {
            return world;
        }

        /** Publishes this rank's buffer and waits for everyone's; checks that the lengths agree. */
        private void publish(float[] buffer, String operation) {
            buffers[rank] = buffer;
            meet(rank, operation);
            for (int r = 0; r < world; r++) {
                if (buffers[r].length != buffer.length) {
                    throw new IllegalStateException(operation + ": rank " + r + " passed " + buffers[r].length
                            + " values, rank " + rank + " " + buffer.length);
                }
            }
        }

        private float[] sumOfShard(int shard, Shard s) {
            float[] sum = new float[s.length()];
            float[] first = buffers[RingOrder.contributor(shard, 1, world)];
            System.arraycopy(first, s.start(), sum, 0, s.length());
            for (int k = 2; k <= world; k++) {
                float[] next = buffers[RingOrder.contributor(shard, k, world)];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = sum[i] + next[s.start() + i];
                }
            }
            return sum;
        }

        @Override
        public void allReduce(float[] buffer) {
            publish(buffer, "allReduce");
            float[] mine = sumOfShard(rank, Shard.of(buffer.length, world, rank));
            meet(rank, "allReduce");
            int start = Shard.of(buffer.length, world, rank).start();
            for (float[] target : buffers) {
                System.arraycopy(mine, 0, target, start, mine.length);
            }
            meet(rank, "allReduce");
        }

        @Override
        public void reduceScatter(float[] buffer, int[] bounds) {
            Shard.requireBounds(bounds, buffer.length, world);
            publish(buffer, "reduceScatter");
            Shard part = Shard.of(bounds, rank);
            float[] mine = sumOfShard(rank, part);
            meet(rank, "reduceScatter");
            System.arraycopy(mine, 0, buffer, part.start(), mine.length);
        }

        @Override
        public void allGather(float[] buffer) {
            publish(buffer, "allGather");
            for (int r = 0; r < world; r++) {
                if (r == rank) continue;
                Shard s = Shard.of(buffer.length, world, r);
                System.arraycopy(buffers[r], s.start(), buffer, s.start(), s.length());
            }
            meet(rank, "allGather");
        }

        @Override
        public void broadcast(float[] buffer, int root) {
            publish(buffer, "broadcast");
            if (rank != root) System.arraycopy(buffers[root], 0, buffer, 0, buffer.length);
            meet(rank, "broadcast");
        }

        @Override
        public void barrier() {
            meet(rank, "barrier");
        }

        /** Leaving early (this rank's thread failed) ends the others' calls at once, naming this rank. */
        @Override
        public void close() {
            abort(rank, "left the gang");
        }
    }
}

package dev.longlora.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every collective of both implementations against a plain reference, with uneven shards (7 values) and values of
 * mixed magnitude so that the order of additions shows in the bits: thread ranks and the TCP ring must agree bit for
 * bit with the ring order.
 */
class CollectivesTest {
    private static final int LENGTH = 7;

    private static float[] input(int rank) {
        SplittableRandom random = new SplittableRandom(17 + rank);
        float[] v = new float[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            v[i] = (float) (random.nextDouble(-1, 1) * Math.pow(10, random.nextInt(-3, 4)));
        }
        return v;
    }

    /** Shard sums in ring order, computed directly. */
    private static float[] ringSum(int world) {
        return ringSum(world, Shard.bounds(LENGTH, world));
    }

    /** Uneven parts, as a bucket cut along a longer buffer's shards gets: rank 0 one value, the last the rest. */
    private static int[] unevenBounds(int world) {
        int[] bounds = new int[world + 1];
        for (int r = 1; r < world; r++) bounds[r] = 1;
        bounds[world] = LENGTH;
        return bounds;
    }

    /** Part sums in ring order (part c's contributors as shard c's), computed directly. */
    private static float[] ringSum(int world, int[] bounds) {
        float[] sum = new float[LENGTH];
        for (int c = 0; c < world; c++) {
            Shard s = Shard.of(bounds, c);
            for (int i = s.start(); i < s.end(); i++) {
                float acc = input(RingOrder.contributor(c, 1, world))[i];
                for (int k = 2; k <= world; k++) {
                    acc = acc + input(RingOrder.contributor(c, k, world))[i];
                }
                sum[i] = acc;
            }
        }
        return sum;
    }

    /**
     * Results per rank: all-reduce, reduce-scatter shard, all-gather, broadcast from the last rank, the two sums,
     * and the part of a reduce-scatter with uneven parts.
     */
    private static float[][] exercise(Collectives c) {
        int world = c.worldSize();
        float[] reduced = input(c.rank());
        c.allReduce(reduced);
        float[] scattered = input(c.rank());
        c.reduceScatter(scattered);
        Shard mine = Shard.of(LENGTH, world, c.rank());
        float[] shard = java.util.Arrays.copyOfRange(scattered, mine.start(), mine.end());
        float[] gathered = new float[LENGTH];
        System.arraycopy(input(c.rank()), mine.start(), gathered, mine.start(), mine.length());
        c.allGather(gathered);
        float[] broadcast = input(c.rank());
        c.broadcast(broadcast, world - 1);
        c.barrier();
        double[] sums = c.sumDoubles(c.rank() + 0.1, 1e-12);
        float[] uneven = input(c.rank());
        int[] bounds = unevenBounds(world);
        c.reduceScatter(uneven, bounds);
        Shard part = Shard.of(bounds, c.rank());
        c.close();
        return new float[][] {
            reduced,
            shard,
            gathered,
            broadcast,
            {(float) sums[0]},
            {(float) (sums[1] * 1e12)},
            java.util.Arrays.copyOfRange(uneven, part.start(), part.end())
        };
    }

    private static void check(int world, List<GangHarness.Outcome<float[][]>> results) {
        float[] expectedSum = ringSum(world);
        float[] expectedGather = new float[LENGTH];
        for (int r = 0; r < world; r++) {
            Shard s = Shard.of(LENGTH, world, r);
            System.arraycopy(input(r), s.start(), expectedGather, s.start(), s.length());
        }
        for (int r = 0; r < world; r++) {
            GangHarness.Outcome<float[][]> o = results.get(r);
            assertNull(o.failure(), () -> "rank failed: " + o.failure());
            float[][] got = o.value();
            Shard s = Shard.of(LENGTH, world, r);
            assertArrayEquals(expectedSum, got[0], "allReduce, rank " + r);
            assertArrayEquals(java.util.Arrays.copyOfRange(expectedSum, s.start(), s.end()), got[1], "reduceScatter");
            assertArrayEquals(expectedGather, got[2], "allGather");
            assertArrayEquals(input(world - 1), got[3], "broadcast");
            assertEquals(world * (world - 1) / 2.0 + 0.1 * world, got[4][0], 1e-5, "sumDoubles");
            assertEquals(world, got[5][0], 1e-6, "a tiny double survives the float transport");
            Shard part = Shard.of(unevenBounds(world), r);
            assertArrayEquals(
                    java.util.Arrays.copyOfRange(ringSum(world, unevenBounds(world)), part.start(), part.end()),
                    got[6],
                    "reduceScatter with uneven parts, rank " + r);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void threadRanksSumInRingOrder(int world) {
        List<Collectives> gang = ThreadRanks.gang(world, Duration.ofSeconds(10));
        check(world, GangHarness.run(world, r -> exercise(gang.get(r))));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void tcpRingOnLoopbackGivesTheSameBits(int world) {
        int port = GangHarness.freePort();
        GangIdentity gang = new GangIdentity("default/equal", 0, world);
        IntFunction<float[][]> rank =
                r -> exercise(Rendezvous.join(GangHarness.loopback(port, Duration.ofSeconds(10)), gang, r));
        check(world, GangHarness.run(world, rank));
    }
}

package dev.longlora.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A rank that leaves or falls silent makes every other rank fail with a {@link LostPeerException} naming it and the
 * operation, at once for a closed connection and within the collective timeout for a silent one.
 */
class LostPeerTest {
    private static final int WORLD = 3;
    private static final int VICTIM = 1;
    private static final Duration TIMEOUT = Duration.ofMillis(1500);

    /**
     * Two good all-reduces, then the victim closes (or sleeps) while the others all-reduce again; {@code elapsed[r]}
     * gets the time from rank r's failing call to its exception.
     */
    private static IntFunction<Long> scenario(IntFunction<Collectives> join, boolean silent, long[] elapsed) {
        return r -> {
            Collectives c = join.apply(r);
            float[] buffer = new float[1000];
            c.allReduce(buffer);
            c.allReduce(buffer);
            if (r == VICTIM) {
                if (silent) sleep(TIMEOUT.toMillis() * 3);
                c.close();
                return 0L;
            }
            long start = System.nanoTime();
            try {
                c.allReduce(buffer);
                c.allReduce(buffer);
            } finally {
                elapsed[r] = System.nanoTime() - start;
                c.close();
            }
            return 0L;
        };
    }

    /** Runs the scenario; checks that every other rank names the victim; returns the slowest rank's time in ms. */
    private static long runAndCheck(IntFunction<Collectives> join, boolean silent) {
        return runAndCheck(WORLD, join, silent);
    }

    private static long runAndCheck(int world, IntFunction<Collectives> join, boolean silent) {
        long[] elapsed = new long[world];
        List<GangHarness.Outcome<Long>> outcomes = GangHarness.run(world, scenario(join, silent, elapsed));
        long slowest = 0;
        for (int r = 0; r < world; r++) {
            if (r == VICTIM) continue;
            LostPeerException e =
                    assertInstanceOf(LostPeerException.class, outcomes.get(r).failure(), "rank " + r);
            assertEquals(VICTIM, e.peerRank(), e.getMessage());
            assertEquals("allReduce", e.operation(), e.getMessage());
            slowest = Math.max(slowest, elapsed[r] / 1_000_000);
        }
        return slowest;
    }

    @Test
    void threadRankThatLeavesIsNamedAtOnce() {
        List<Collectives> gang = ThreadRanks.gang(WORLD, TIMEOUT);
        long ms = runAndCheck(gang::get, false);
        assertTrue(ms < TIMEOUT.toMillis(), "a closed rank is noticed before the timeout: " + ms + " ms");
    }

    @Test
    void silentThreadRankIsNamedAfterTheTimeout() {
        List<Collectives> gang = ThreadRanks.gang(WORLD, TIMEOUT);
        long ms = runAndCheck(gang::get, true);
        assertTrue(ms >= TIMEOUT.toMillis() - 50 && ms < TIMEOUT.toMillis() + 1000, ms + " ms");
    }

    private static IntFunction<Collectives> tcp(int world) {
        int port = GangHarness.freePort();
        GangIdentity gang = new GangIdentity("default/lost", 4, world);
        return r -> Rendezvous.join(GangHarness.loopback(port, TIMEOUT), gang, r);
    }

    @Test
    void tcpRankThatClosesIsNamedByEveryone() {
        long ms = runAndCheck(tcp(WORLD), false);
        assertTrue(ms < TIMEOUT.toMillis(), "closed connections are noticed at once: " + ms + " ms");
    }

    /** Four ranks: two ranks stand between the silent one and the last to notice, and all must name it. */
    @ParameterizedTest
    @ValueSource(ints = {3, 4})
    void silentTcpRankIsNamedByEveryoneWithinTheTimeout(int world) {
        long ms = runAndCheck(world, tcp(world), true);
        // the timeout, then at most a grace (a quarter of it) for the verdict to come round
        assertTrue(ms >= TIMEOUT.toMillis() - 50 && ms < TIMEOUT.toMillis() * 2 + 1000, ms + " ms");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.longlora.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * A rank that leaves or falls silent makes every other rank fail with a {@link LostPeerException} naming it and the
 * operation, at once for a closed connection and within the collective timeout for a silent one.
 */
class LostPeerTest {
    private static final int WORLD = 3;
    private static final int VICTIM = 1;
    private static final Duration TIMEOUT = Duration.ofMillis(1500);

    /** Two good all-reduces, then the victim closes (or sleeps) while the others all-reduce again. */
    private static IntFunction<Long> scenario(IntFunction<Collectives> join, boolean silent) {
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
                c.close();
            }
            return System.nanoTime() - start;
        };
    }

    /** Runs the scenario; checks that every other rank names the victim; returns the wall time in ms. */
    private static long runAndCheck(IntFunction<Collectives> join, boolean silent) {
        long start = System.nanoTime();
        List<GangHarness.Outcome<Long>> outcomes = GangHarness.run(WORLD, scenario(join, silent));
        long ms = (System.nanoTime() - start) / 1_000_000;
        for (int r = 0; r < WORLD; r++) {
            if (r == VICTIM) continue;
            LostPeerException e =
                    assertInstanceOf(LostPeerException.class, outcomes.get(r).failure(), "rank " + r);
            assertEquals(VICTIM, e.peerRank(), e.getMessage());
            assertEquals("allReduce", e.operation(), e.getMessage());
        }
        return ms;
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
        assertTrue(ms >= TIMEOUT.toMillis() && ms < TIMEOUT.toMillis() * 3 + 2000, ms + " ms");
    }

    private static IntFunction<Collectives> tcp(int world) {
        int port = GangHarness.freePort();
        GangIdentity gang = new GangIdentity("default/lost", 4, world);
        return r -> Rendezvous.join(GangHarness.loopback(port, TIMEOUT), gang, r);
    }

    @Test
    void tcpRankThatClosesIsNamedByEveryone() {
        long ms = runAndCheck(tcp(WORLD), false);
        assertTrue(ms < TIMEOUT.toMillis() + 1000, "closed connections are noticed at once: " + ms + " ms");
    }

    @Test
    void silentTcpRankIsNamedByEveryoneWithinTheTimeout() {
        long ms = runAndCheck(tcp(WORLD), true);
        assertTrue(ms >= TIMEOUT.toMillis() && ms < TIMEOUT.toMillis() * 3 + 2000, ms + " ms");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

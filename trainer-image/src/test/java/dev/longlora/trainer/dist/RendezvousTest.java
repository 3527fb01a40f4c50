package dev.longlora.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who may join a gang, and how long a rank waits for the others. */
class RendezvousTest {

    @Test
    void aStragglerFromAnOldGangIsRefusedAndTheGangStillForms() {
        int port = GangHarness.freePort();
        Rendezvous.Settings settings = GangHarness.loopback(port, Duration.ofSeconds(5));
        GangIdentity current = new GangIdentity("ns/job", 3, 2);
        // rank 2 joins first with the old generation, then the real rank 1
        List<GangHarness.Outcome<Integer>> outcomes = GangHarness.run(3, r -> {
            if (r == 2) {
                return Rendezvous.join(settings, new GangIdentity("ns/job", 2, 2), 1)
                        .rank();
            }
            if (r == 1) sleep(500);
            try (Collectives c = Rendezvous.join(settings, current, r)) {
                c.barrier();
                return c.worldSize();
            }
        });
        assertNull(outcomes.get(0).failure());
        assertEquals(2, outcomes.get(0).value());
        assertNull(outcomes.get(1).failure());
        LostPeerException refused =
                assertInstanceOf(LostPeerException.class, outcomes.get(2).failure());
        assertTrue(
                refused.getMessage().contains("gang generation 2")
                        && refused.getMessage().contains("generation 3")
                        && refused.getMessage().contains("straggler"),
                refused.getMessage());
    }

    @Test
    void aWorldSizeMismatchIsNamed() {
        String refusal = new GangIdentity("ns/job", 0, 4).refusal(new GangIdentity("ns/job", 0, 2));
        assertTrue(refusal.contains("WORLD_SIZE=2") && refusal.contains("rank 0 for 4"), refusal);
        assertNull(new GangIdentity("ns/job", 0, 4).refusal(new GangIdentity("ns/job", 0, 4)));
        assertTrue(new GangIdentity("ns/a", 0, 4)
                .refusal(new GangIdentity("ns/b", 0, 4))
                .contains("job ns/b"));
    }

    @Test
    void aRankWithoutRankZeroGivesUpAfterTheRendezvousTimeout() {
        int port = GangHarness.freePort();
        Rendezvous.Settings settings =
                new Rendezvous.Settings("127.0.0.1", port, Duration.ofMillis(800), Duration.ofSeconds(1));
        long start = System.nanoTime();
        LostPeerException e = assertThrows(
                LostPeerException.class, () -> Rendezvous.join(settings, new GangIdentity("ns/job", 0, 2), 1));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(0, e.peerRank());
        assertTrue(e.getMessage().contains("rendezvousTimeoutSeconds"), e.getMessage());
        assertTrue(ms >= 300 && ms < 5000, ms + " ms");
    }

    @Test
    void rankZeroNamesTheRanksThatNeverCame() {
        int port = GangHarness.freePort();
        Rendezvous.Settings settings =
                new Rendezvous.Settings("127.0.0.1", port, Duration.ofMillis(500), Duration.ofSeconds(1));
        LostPeerException e = assertThrows(
                LostPeerException.class, () -> Rendezvous.join(settings, new GangIdentity("ns/job", 0, 3), 0));
        assertEquals(1, e.peerRank());
        assertTrue(e.getMessage().contains("ranks [1, 2] did not join"), e.getMessage());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

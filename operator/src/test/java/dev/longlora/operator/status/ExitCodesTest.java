package dev.longlora.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Contract section 7, row by row. */
class ExitCodesTest {
    @Test
    void configModelAndMemoryFailuresArePermanent() {
        assertEquals("InvalidConfig", ExitCodes.classify(2).reason());
        assertEquals("InvalidModelOrData", ExitCodes.classify(3).reason());
        assertEquals("OutOfMemory", ExitCodes.classify(4).reason());
        for (int code : new int[] {2, 3, 4}) {
            assertTrue(ExitCodes.classify(code).permanent(), "exit code " + code);
        }
        assertTrue(ExitCodes.classify(4).explanation().contains("targetLength"), "OOM suggests a fix");
    }

    @Test
    void lostPeersSignalsAndUnknownCodesAreRetryable() {
        assertEquals("LostPeer", ExitCodes.classify(10).reason());
        assertEquals("Signal", ExitCodes.classify(137).reason());
        assertTrue(ExitCodes.classify(137).explanation().contains("signal 9"));
        assertEquals("Unknown", ExitCodes.classify(1).reason());
        for (int code : new int[] {1, 10, 42, 134, 137, 143}) {
            assertFalse(ExitCodes.classify(code).permanent(), "exit code " + code);
        }
        assertFalse(ExitCodes.withoutExitCode("Evicted").permanent());
        assertEquals("Evicted", ExitCodes.withoutExitCode("Evicted").reason());
        assertEquals("PodFailed", ExitCodes.withoutExitCode(null).reason());
    }
}

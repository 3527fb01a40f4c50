package dev.longlora.trainer.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.BadArguments;
import org.junit.jupiter.api.Test;

/** The CPU reference rejects every bad call of {@link BadArguments} with the shared check's message. */
class CpuBadArgumentsTest {

    @Test
    void everyBadCallFailsWithTheSharedMessage() {
        try (CpuBackend be = new CpuBackend(1)) {
            for (BadArguments.BadCall bad : BadArguments.ALL) {
                String message = bad.failureOn(be).getMessage();
                assertTrue(message.startsWith(bad.messageStart()), bad.what() + ": " + message);
            }
        }
    }
}

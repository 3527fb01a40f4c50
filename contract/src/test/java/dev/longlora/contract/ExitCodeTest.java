package dev.longlora.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ExitCodeTest {

    @Test
    void permanentCodesFailAndOthersRestart() {
        for (int code : new int[] {2, 3, 4, 5}) {
            assertTrue(ExitCode.classify(code).permanent(), "exit code " + code);
        }
        for (int code : new int[] {1, 10, 11, 12, 137, 143, 77}) {
            assertFalse(ExitCode.classify(code).permanent(), "exit code " + code);
        }
        assertEquals("InvalidConfig", ExitCode.classify(2).reason());
        assertEquals("LossDiverged", ExitCode.classify(5).reason());
        assertTrue(ExitCode.classify(4).explanation().contains("targetLength"), "OOM suggests a fix");
        assertEquals("Signal", ExitCode.classify(137).reason());
        assertTrue(ExitCode.classify(137).explanation().contains("signal 9"));
        assertEquals("Unknown", ExitCode.classify(77).reason());
        assertEquals("UnexpectedError", ExitCode.classify(1).reason());
        assertFalse(ExitCode.withoutExitCode("Evicted").permanent());
        assertEquals("PodFailed", ExitCode.withoutExitCode(null).reason());
    }

    @Test
    void onlyARequestedStopIsFreeOfBackoff() {
        Set<ExitCode> uncounted = Arrays.stream(ExitCode.values())
                .filter(e -> ExitCode.classify(e.code()).action() == ExitCode.Action.RESTART_UNCOUNTED)
                .collect(Collectors.toSet());
        assertEquals(Set.of(ExitCode.STOPPED), uncounted);
        assertTrue(ExitCode.classify(1).countsAgainstBackoff());
        assertTrue(ExitCode.classify(10).countsAgainstBackoff());
        assertTrue(ExitCode.classify(12).countsAgainstBackoff());
        assertEquals("NodeUnfit", ExitCode.classify(12).reason());
        assertFalse(ExitCode.classify(11).countsAgainstBackoff());
    }

    /** docs/contract.md section 7 lists exactly these codes, with these reasons and actions. */
    @Test
    void theDocumentedTableIsTheEnum() {
        List<List<String>> rows = ContractDocument.table(7);
        List<String> documented = rows.stream()
                .filter(r -> r.get(0).matches("\\d+"))
                .map(r -> r.get(0) + " " + r.get(1) + " " + r.get(3))
                .toList();
        List<String> enumerated = Arrays.stream(ExitCode.values())
                .map(e -> e.code() + " `" + e.reason() + "` " + action(e.action()))
                .toList();
        assertEquals(
                enumerated,
                documented.stream().map(d -> d.replaceAll(":.*", "")).toList());
    }

    private static String action(ExitCode.Action a) {
        return switch (a) {
            case SUCCEED -> "success";
            case FAIL -> "permanent";
            case RESTART -> "retryable";
            case RESTART_UNCOUNTED -> "retryable, not counted";
        };
    }
}

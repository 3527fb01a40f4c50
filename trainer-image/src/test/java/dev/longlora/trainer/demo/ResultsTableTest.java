package dev.longlora.trainer.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ResultsTableTest {

    @Test
    void marksPasskeyLengthsBeyondTheOriginalContextAndLeavesMissingCellsEmpty() {
        var table = new ResultsTable(128);
        table.add(new VariantResult("base", 128, 3.21, new TreeMap<>(Map.of(128, 0.9)), Double.NaN, 100_000, 61.4));
        table.add(new VariantResult("longlora", 512, 2.5, new TreeMap<>(Map.of(128, 1.0, 512, 0.75)), 0.5, 13_440, 20));
        String[] lines = table.markdown().split("\n");
        assertEquals(4, lines.length);
        assertTrue(lines[0].contains("passkey@128 |") && lines[0].contains("passkey@512 (beyond)"), lines[0]);
        assertTrue(lines[0].contains("recall >128 back"), lines[0]);
        assertEquals("| base | 3.210 @128 | 90% | - | - | 100,000 | 61 |", lines[2]);
        assertEquals("| longlora | 2.500 @512 | 100% | 75% | 50% | 13,440 | 20 |", lines[3]);
    }
}

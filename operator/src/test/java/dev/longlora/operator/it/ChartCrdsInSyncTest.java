package dev.longlora.operator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The chart's crds/ folder must be a byte-for-byte copy of the repository's generated crds/: Helm installs
 * the chart's copy, and a stale copy would install an old schema. Fix: {@code tools/sync-chart-crds.sh}.
 */
class ChartCrdsInSyncTest {

    @Test
    void chartCrdsMatchGeneratedCrds() throws IOException {
        Path generated = RepositoryLayout.crds();
        assumeTrue(Files.isDirectory(generated), "no generated crds/ folder yet at " + generated);
        Map<String, String> expected = yamlFiles(generated);
        Map<String, String> actual = yamlFiles(RepositoryLayout.chart().resolve("crds"));
        assertEquals(
                expected.keySet(),
                actual.keySet(),
                "charts/longlora-operator/crds/ holds other files than crds/: run tools/sync-chart-crds.sh");
        for (var entry : expected.entrySet()) {
            assertEquals(
                    entry.getValue(),
                    actual.get(entry.getKey()),
                    "charts/longlora-operator/crds/" + entry.getKey() + " differs from crds/" + entry.getKey()
                            + ": run tools/sync-chart-crds.sh");
        }
    }

    private static Map<String, String> yamlFiles(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.filter(
                            f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .toList()) {
                files.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return files;
    }
}

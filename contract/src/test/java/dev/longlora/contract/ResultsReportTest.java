package dev.longlora.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultsReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesTheContractExampleAndReadsItBack() throws Exception {
        ResultsReport r = ResultsReport.of(
                "/checkpoints/output/adapter",
                "/checkpoints/output/merged",
                List.of(new ResultsReport.Perplexity(4096, 7.12), new ResultsReport.Perplexity(32768, 6.95)),
                List.of(new ResultsReport.Passkey(32768, 0.8)),
                Instant.parse("2026-11-26T12:00:00.789Z"));
        String example = ContractDocument.jsonExample(8);
        assertEquals(JSON.readTree(example), JSON.readTree(r.toJson()));
        assertEquals(r, ResultsReport.parse(example));
        assertEquals(r, ResultsReport.parse(r.toJson()));
        assertEquals(6.95, r.perplexityAt(32768));
        assertNull(r.perplexityAt(8192));
        assertEquals(
                "perplexity 7.120 at 4096, 6.950 at 32768; passkey 80% at 32768; adapter /checkpoints/output/adapter;"
                        + " merged model /checkpoints/output/merged",
                r.summary());
    }

    @Test
    void aReportWithoutEvaluationOrMergeLeavesThemOut() throws Exception {
        ResultsReport r = ResultsReport.of("/checkpoints/output/adapter", null, null, null, Instant.EPOCH);
        JsonNode json = JSON.readTree(r.toJson());
        assertTrue(!json.has("mergedPath"), json.toString());
        assertEquals(List.of(), ResultsReport.parse(r.toJson()).perplexity());
        assertEquals("no evaluation; adapter /checkpoints/output/adapter", r.summary());
    }

    @Test
    void aMessageThatIsNoReportSaysWhy() {
        assertEquals(
                "the termination message is empty",
                assertThrows(IllegalArgumentException.class, () -> ResultsReport.parse(""))
                        .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResultsReport.parse("Killed after step 3"))
                .getMessage()
                .startsWith("the termination message is not a results report"));
        assertEquals(
                "the termination message has no adapterPath",
                assertThrows(IllegalArgumentException.class, () -> ResultsReport.parse("{\"perplexity\": []}"))
                        .getMessage());
        assertEquals(
                "a perplexity entry lacks its length or value",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResultsReport.parse(
                                        "{\"adapterPath\": \"/a\", \"perplexity\": [{\"length\": 4}]}"))
                        .getMessage());
        assertEquals(
                7L,
                Math.round(ResultsReport.parse("{\"adapterPath\": \"/a\", \"future\": 1, \"perplexity\":"
                                + " [{\"length\": 4, \"value\": 7.0}]}")
                        .perplexityAt(4)));
    }

    @Test
    void aReportTheKubeletWouldTruncateIsRefused() {
        String longPath = "/checkpoints/" + "x".repeat(ResultsReport.MAX_BYTES);
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> ResultsReport.of(longPath, null, null, null, Instant.EPOCH)
                        .toJson());
        assertTrue(e.getMessage().contains("more than the 4096 of a termination message"), e.getMessage());
        String most = ResultsReport.of(
                        "/checkpoints/output/adapter",
                        "/checkpoints/output/merged",
                        java.util.stream.IntStream.range(0, JobConfig.Evaluation.MAX_LENGTHS)
                                .mapToObj(i -> new ResultsReport.Perplexity(1_048_576, 123456.789012345))
                                .toList(),
                        List.of(new ResultsReport.Passkey(1_048_576, 0.123456789)),
                        Instant.EPOCH)
                .toJson();
        assertTrue(
                most.getBytes(StandardCharsets.UTF_8).length < ResultsReport.MAX_BYTES / 4,
                "the most lengths a job may evaluate stay far below the limit: " + most.length());
    }
}

package dev.longlora.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProgressReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesTheContractExample() throws Exception {
        ProgressReport r = ProgressReport.of(
                120,
                1000,
                2.31,
                2.0e-5,
                5120.0,
                8600,
                ProgressPhase.TRAINING,
                Instant.parse("2026-11-26T10:00:00.456Z"),
                ProgressReport.LastCheckpoint.of(
                        100, "/checkpoints/step-100", Instant.parse("2026-11-26T09:58:00.123Z")));
        JsonNode expected = JSON.readTree(ContractDocument.jsonExample(6));
        assertEquals(expected, JSON.readTree(r.toJson()));
        assertEquals(Optional.of(r), ProgressReport.parse(r.toJson()));
    }

    @Test
    void leavesOutWhatIsNotKnownYet() throws Exception {
        JsonNode early =
                JSON.readTree(ProgressReport.of(1, 10, 5.0, 1e-5, 10.0, -1, ProgressPhase.TRAINING, Instant.EPOCH, null)
                        .toJson());
        assertFalse(early.has("lastCheckpoint"));
        assertFalse(early.has("etaSeconds"), "no ETA until one can be estimated");
    }

    @Test
    void aMalformedAnnotationIsIgnoredAndUnknownFieldsAreToo() {
        assertEquals(Optional.empty(), ProgressReport.parse("{not json"));
        assertEquals(Optional.empty(), ProgressReport.parse(""));
        assertEquals(
                42L,
                ProgressReport.parse("{\"step\": 42, \"future\": true}")
                        .orElseThrow()
                        .step());
        assertEquals(
                null,
                ProgressReport.parse("{\"step\": 42, \"phase\": \"compiling\"}")
                        .orElseThrow()
                        .phase(),
                "a phase this operator does not know is left out, the rest is kept");
        assertEquals(
                ProgressPhase.CHECKPOINTING,
                ProgressReport.parse("{\"phase\": \"checkpointing\"}")
                        .orElseThrow()
                        .phase());
    }
}

package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressAnnotationTest {

    @Test
    void matchesTheContractExample() throws Exception {
        String json = ProgressAnnotation.json(
                new ProgressSink.StepProgress(120, 1000, 2.31, 2.0e-5, 5120.0, 8600, 0.9),
                new ProgressAnnotation.Checkpoint(
                        100, Path.of("/checkpoints/step-100"), Instant.parse("2026-11-26T09:58:00.123Z")),
                Instant.parse("2026-11-26T10:00:00.456Z"));
        JsonNode expected = new ObjectMapper().readTree("""
                {"step": 120, "totalSteps": 1000, "loss": 2.31, "learningRate": 2.0e-5, "tokensPerSecond": 5120.0,
                 "etaSeconds": 8600, "updateTime": "2026-11-26T10:00:00Z",
                 "lastCheckpoint": {"step": 100, "path": "/checkpoints/step-100", "time": "2026-11-26T09:58:00Z"}}""");
        assertEquals(expected, new ObjectMapper().readTree(json));
        String early = ProgressAnnotation.json(
                new ProgressSink.StepProgress(1, 10, 5.0, 1e-5, 10.0, -1, 1.0), null, Instant.EPOCH);
        JsonNode e = new ObjectMapper().readTree(early);
        assertFalse(e.has("lastCheckpoint"));
        assertFalse(e.has("etaSeconds"), "no ETA until one can be estimated");
    }
}

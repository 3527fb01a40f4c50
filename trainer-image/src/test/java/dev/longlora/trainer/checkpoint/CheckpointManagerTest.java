package dev.longlora.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ResumeFrom;
import dev.longlora.trainer.io.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointManagerTest {

    @TempDir
    Path root;

    private final List<String> logged = new ArrayList<>();

    private CheckpointManager manager(int keep) {
        return new CheckpointManager(root, keep, logged::add);
    }

    private static CheckpointState state(long step) {
        return new CheckpointState(
                step,
                step * 3,
                42,
                step * 7,
                Map.of("model.norm.weight", TensorData.of(new float[] {step, 2, 3}, 3)),
                Map.of(
                        "model.norm.weight.exp_avg",
                        TensorData.of(new float[] {0.1f * step, 0, 0}, 3),
                        "model.norm.weight.exp_avg_sq",
                        TensorData.of(new float[] {1, 1, step}, 3)),
                step,
                Map.of("loss", "1.5"));
    }

    @Test
    void saveThenLoadRestoresEverything() {
        CheckpointManager m = manager(3);
        Path dir = m.save(state(5));
        assertEquals(root.resolve("step-5"), dir);
        assertTrue(Files.exists(dir.resolve("COMPLETE")));
        assertFalse(Files.exists(root.resolve("step-5.tmp")));
        CheckpointState back = m.resolve(new ResumeFrom.Latest()).orElseThrow();
        assertEquals(state(5), back);
        assertTrue(m.resolve(new ResumeFrom.None()).isEmpty());
    }

    @Test
    void keepsOnlyTheNewestCompleteCheckpoints() {
        CheckpointManager m = manager(2);
        for (long s : new long[] {10, 20, 30, 40}) m.save(state(s));
        assertEquals(List.of(40L, 30L), m.completeSteps());
        assertFalse(Files.exists(root.resolve("step-10")));
        assertEquals(40, m.resolve(new ResumeFrom.Latest()).orElseThrow().step());
        assertEquals(30, m.resolve(new ResumeFrom.Step(30)).orElseThrow().step());
    }

    @Test
    void anInterruptedSaveIsNeverResumed() throws IOException {
        CheckpointManager m = manager(3);
        m.save(state(10));
        m.save(state(20));
        // A crash after the files but before COMPLETE: simulate by deleting the marker of the newest one.
        Files.delete(root.resolve("step-20/COMPLETE"));
        Files.createDirectories(root.resolve("step-30.tmp"));
        assertEquals(10, m.resolve(new ResumeFrom.Latest()).orElseThrow().step());
        assertTrue(logged.stream().anyMatch(s -> s.contains("step-20") && s.contains("COMPLETE")), logged.toString());
        assertFalse(Files.exists(root.resolve("step-30.tmp")), "the remains of a crashed save are removed at start");
        assertTrue(Files.exists(root.resolve("step-20")), "an unmarked directory is left for inspection");
        logged.clear();
        m.save(state(40));
        assertTrue(logged.isEmpty(), "saving does not repeat start-up warnings: " + logged);
        ConfigException e = assertThrows(ConfigException.class, () -> m.resolve(new ResumeFrom.Step(20)));
        assertTrue(e.getMessage().contains("RESUME_FROM=20"), e.getMessage());
    }

    @Test
    void aCorruptFileMakesTheCheckpointSkippedWithAReason() throws IOException {
        CheckpointManager m = manager(3);
        m.save(state(10));
        m.save(state(20));
        Path f = root.resolve("step-20/optimizer.safetensors");
        byte[] b = Files.readAllBytes(f);
        b[b.length - 1] ^= 1; // one flipped bit in the data, which the header cannot notice
        Files.write(f, b, StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals(10, m.resolve(new ResumeFrom.Latest()).orElseThrow().step());
        assertTrue(
                logged.stream().anyMatch(s -> s.contains("skipping checkpoint step-20") && s.contains("corrupt")),
                logged.toString());
        assertThrows(ConfigException.class, () -> m.resolve(new ResumeFrom.Step(20)));

        Files.writeString(root.resolve("step-10/state.json"), "{not json");
        assertTrue(m.resolve(new ResumeFrom.Latest()).isEmpty(), "nothing valid left: start fresh");
    }

    @Test
    void resavingAStepReplacesIt() {
        CheckpointManager m = manager(3);
        m.save(state(10));
        CheckpointState other = new CheckpointState(
                10, 99, 42, 0, state(10).trainable(), state(10).optimizer(), 10, Map.of());
        m.save(other);
        assertEquals(99, m.resolve(new ResumeFrom.Step(10)).orElseThrow().dataPosition());
        assertEquals(List.of(10L), m.completeSteps());
    }
}

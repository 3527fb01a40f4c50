package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.ConfigException;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.RankEnv;
import dev.longlora.contract.ResumeFrom;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.checkpoint.CheckpointManager;
import dev.longlora.trainer.checkpoint.CheckpointState;
import dev.longlora.trainer.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * N thread ranks with the same global batch (world x accumulation = 4 windows a step) train what one rank trains:
 * losses, weights and optimizer state within {@link #TOLERANCE} relative (the ranks add the same numbers in another
 * order). At one world size ZeRO stages 0 and 1 give the same bits, and so do stages 2 and 3 (stage 3 gathers exact
 * copies of the frozen weights, with gradient checkpointing's recompute and without it); 2 and 3 reduce each
 * micro-batch's gradients during its backward, so with accumulation their sums run in another order than 0 and 1. Dropout is on, so the masks must follow
 * the windows' global indices; the gradient is clipped, so the norm must be global.
 */
class DataParallelEquivalenceTest {
    /** Relative L2 error allowed per tensor after 4 AdamW steps (float sums in another order). */
    static final double TOLERANCE = 1e-6;

    private static final int STEPS = 4;
    private static final int GLOBAL_BATCH = 4;

    @TempDir
    static Path dir;

    private static CheckpointState reference;

    static JobConfig job(int world, int zeroStage, int maxSteps) {
        return job(world, zeroStage, maxSteps, true);
    }

    static JobConfig job(int world, int zeroStage, int maxSteps, boolean gradientCheckpointing) {
        return job(world, zeroStage, maxSteps, gradientCheckpointing, GLOBAL_BATCH);
    }

    static JobConfig job(int world, int zeroStage, int maxSteps, boolean gradientCheckpointing, int globalBatch) {
        return JobConfigJson.parse(
                """
                {"model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic"},
                 "context": {"originalLength": 32, "targetLength": 64},
                 "attention": {"pattern": "s2", "groups": 4},
                 "lora": {"rank": 4, "alpha": 8, "dropout": 0.1},
                 "training": {"maxSteps": %d, "learningRate": 2e-3, "warmupSteps": 1, "gradientAccumulationSteps": %d,
                              "maxGradNorm": 0.05, "schedule": "constant_with_warmup", "seed": 11,
                              "gradientCheckpointing": %b},
                 "distributed": {"nodes": 1, "gpusPerNode": %d, "zeroStage": %d, "collectiveTimeoutSeconds": 60},
                 "checkpoint": {"everySteps": 2, "keep": 5}}""".formatted(maxSteps, globalBatch / world, gradientCheckpointing, world, zeroStage));
    }

    /** Trains with {@code world} thread ranks in this JVM; returns the final checkpoint. */
    static CheckpointState train(int world, int zeroStage, int maxSteps, Path checkpoints) {
        return train(job(world, zeroStage, maxSteps), world, checkpoints);
    }

    static CheckpointState train(JobConfig job, int world, Path checkpoints) {
        int maxSteps = job.training().maxSteps();
        RankEnv env = RankEnv.from(Map.of(
                "NNODES", "1",
                "GPUS_PER_NODE", Integer.toString(world),
                "WORLD_SIZE", Integer.toString(world),
                "CHECKPOINT_DIR", checkpoints.toString()));
        TrainingRun.Result r = new RankGroup(job, env, i -> new CpuBackend(1), ProgressSink.none(), m -> {}).run();
        assertEquals(maxSteps, r.lastStep());
        return new CheckpointManager(checkpoints, 5, m -> {})
                .resolve(new ResumeFrom.Step(maxSteps))
                .orElseThrow();
    }

    @BeforeAll
    static void oneRank() {
        reference = train(1, 0, STEPS, dir.resolve("one"));
    }

    static double relativeError(float[] expected, float[] actual) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += Math.pow((double) expected[i] - actual[i], 2);
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }

    /** The largest relative error over every trainable tensor and optimizer moment. */
    static double worstError(CheckpointState expected, CheckpointState actual) {
        double worst = 0;
        for (var pair : List.of(
                Map.entry(expected.trainable(), actual.trainable()),
                Map.entry(expected.optimizer(), actual.optimizer()))) {
            assertEquals(pair.getKey().keySet(), pair.getValue().keySet());
            for (Map.Entry<String, TensorData> e : pair.getKey().entrySet()) {
                worst = Math.max(
                        worst,
                        relativeError(
                                e.getValue().values(),
                                pair.getValue().get(e.getKey()).values()));
            }
        }
        return worst;
    }

    @ParameterizedTest(name = "{0} ranks, ZeRO {1}")
    @CsvSource({"2, 0", "2, 2", "4, 1", "4, 2", "1, 3", "2, 3", "4, 3"})
    void ranksTrainWhatOneRankTrains(int world, int zeroStage) {
        CheckpointState state = train(world, zeroStage, STEPS, dir.resolve("w" + world + "z" + zeroStage));
        double error = worstError(reference, state);
        System.out.printf(Locale.ROOT, "%d ranks, ZeRO %d: worst relative error %.2e%n", world, zeroStage, error);
        assertTrue(error <= TOLERANCE, world + " ranks, ZeRO " + zeroStage + ": relative error " + error);
        assertEquals(reference.dataPosition(), state.dataPosition(), "the data position is global");
        assertEquals(reference.dropoutCounter(), state.dropoutCounter(), "the dropout counter is global");
        double referenceLoss = Double.parseDouble(reference.scalars().get("loss"));
        double loss = Double.parseDouble(state.scalars().get("loss"));
        assertEquals(referenceLoss, loss, 1e-6 * Math.abs(referenceLoss), "rank 0 reports the global loss");
    }

    /** The GPU examples' node shape: 8 ranks (GPUS_PER_NODE=8 as thread ranks) with ZeRO 2 and 3, 3 steps. */
    @Test
    void eightThreadRanksTrainWhatOneRankTrainsAtZero2And3() {
        int steps = 3;
        CheckpointState one = train(job(1, 0, steps, true, 8), 1, dir.resolve("one-of-8"));
        for (int stage : new int[] {2, 3}) {
            CheckpointState eight = train(job(8, stage, steps, true, 8), 8, dir.resolve("eight-z" + stage));
            double error = worstError(one, eight);
            System.out.printf(Locale.ROOT, "8 ranks, ZeRO %d: worst relative error %.2e%n", stage, error);
            assertTrue(error <= TOLERANCE, "8 ranks, ZeRO " + stage + ": relative error " + error);
        }
    }

    @Test
    void zeroStagesGiveTheSameBitsAtOneWorldSize() {
        CheckpointState stage0 = train(2, 0, 2, dir.resolve("bits0"));
        assertSameBits(stage0, train(2, 1, 2, dir.resolve("bits1")), "ZeRO 1 against 0");
        CheckpointState stage2 = train(2, 2, 2, dir.resolve("bits2"));
        assertSameBits(stage2, train(2, 3, 2, dir.resolve("bits3")), "ZeRO 3 against 2");
        // stage 3 without gradient checkpointing: backward gathers each layer again instead of recomputing under one
        assertSameBits(
                stage2,
                train(job(2, 3, 2, false), 2, dir.resolve("bits3-no-checkpointing")),
                "ZeRO 3 without checkpointing against 2");
        double error = worstError(stage0, stage2);
        System.out.printf(Locale.ROOT, "2 ranks, ZeRO 2 against 0 after 2 steps: relative error %.2e%n", error);
        assertTrue(error <= TOLERANCE, "relative error " + error);
    }

    private static void assertSameBits(CheckpointState expected, CheckpointState actual, String what) {
        for (var pair : List.of(
                Map.entry(expected.trainable(), actual.trainable()),
                Map.entry(expected.optimizer(), actual.optimizer()))) {
            for (Map.Entry<String, TensorData> e : pair.getKey().entrySet()) {
                assertArrayEquals(
                        e.getValue().values(), pair.getValue().get(e.getKey()).values(), what + ": " + e.getKey());
            }
        }
    }

    @Test
    void aShardedCheckpointResumesAtOtherWorldSizesAndStages() throws Exception {
        Path run = dir.resolve("resume");
        train(2, 2, 2, run);
        Path step2 = run.resolve(CheckpointLayout.stepDirectory(2));
        assertFalse(Files.exists(step2.resolve(CheckpointLayout.OPTIMIZER_FILE)), "ZeRO 2 saves per-rank parts");
        long whole = Files.size(dir.resolve("one")
                .resolve(CheckpointLayout.stepDirectory(STEPS))
                .resolve(CheckpointLayout.OPTIMIZER_FILE));
        for (int r = 0; r < 2; r++) {
            long part = Files.size(step2.resolve(CheckpointLayout.optimizerShardFile(r)));
            assertTrue(
                    part < whole * 0.6,
                    "rank " + r + " holds about half the optimizer state: " + part + " of " + whole);
        }
        train(4, 1, 3, run); // 2 shards read back by 4 ranks, saved as 4 shards
        assertTrue(Files.exists(
                run.resolve(CheckpointLayout.stepDirectory(3)).resolve(CheckpointLayout.optimizerShardFile(3))));
        CheckpointState onOne = train(1, 0, STEPS, run); // 4 shards read back by one rank
        double error = worstError(reference, onOne);
        System.out.printf(
                Locale.ROOT, "2 ranks ZeRO 2 -> 4 ranks ZeRO 1 -> 1 rank: worst relative error %.2e%n", error);
        assertTrue(error <= TOLERANCE, "relative error " + error);
    }

    @Test
    void aZero2CheckpointResumesAtZero3() throws Exception {
        Path run = dir.resolve("resume-2-to-3");
        train(2, 2, 2, run);
        CheckpointState onStage3 = train(4, 3, STEPS, run);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var written2 = json.readTree(run.resolve(CheckpointLayout.stepDirectory(2))
                .resolve(CheckpointLayout.OPTIMIZER_MANIFEST_FILE)
                .toFile());
        var written4 = json.readTree(run.resolve(CheckpointLayout.stepDirectory(STEPS))
                .resolve(CheckpointLayout.OPTIMIZER_MANIFEST_FILE)
                .toFile());
        assertEquals(
                List.of(2, 2),
                List.of(
                        written2.path("worldSize").asInt(),
                        written2.path("zeroStage").asInt()));
        assertEquals(
                List.of(4, 3),
                List.of(
                        written4.path("worldSize").asInt(),
                        written4.path("zeroStage").asInt()));
        double error = worstError(reference, onStage3);
        System.out.printf(Locale.ROOT, "2 ranks ZeRO 2 -> 4 ranks ZeRO 3: worst relative error %.2e%n", error);
        assertTrue(error <= TOLERANCE, "relative error " + error);
    }

    @Test
    void aShardedCheckpointWithACorruptPartIsNotResumed() throws Exception {
        Path run = dir.resolve("corrupt");
        train(2, 1, 2, run);
        Path part = run.resolve(CheckpointLayout.stepDirectory(2)).resolve(CheckpointLayout.optimizerShardFile(1));
        byte[] bytes = Files.readAllBytes(part);
        bytes[bytes.length - 1] ^= 1;
        Files.write(part, bytes);
        ConfigException e = assertThrows(
                ConfigException.class, () -> new CheckpointManager(run, 5, m -> {}).resolve(new ResumeFrom.Step(2)));
        assertTrue(e.getMessage().contains(CheckpointLayout.optimizerShardFile(1)), e.getMessage());
    }
}

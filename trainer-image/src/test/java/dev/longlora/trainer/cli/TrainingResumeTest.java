package dev.longlora.trainer.cli;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.config.JobConfig;
import dev.longlora.trainer.config.JobConfigLoader;
import dev.longlora.trainer.config.RankEnv;
import dev.longlora.trainer.io.SafetensorsReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** N + N steps with a checkpoint in between give exactly what 2N steps straight give: parameters and losses. */
class TrainingResumeTest {

    @TempDir
    Path dir;

    static JobConfig job(int maxSteps) {
        return JobConfigLoader.parse("""
                {"model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic"},
                 "context": {"originalLength": 32, "targetLength": 64},
                 "attention": {"pattern": "s2", "groups": 4},
                 "lora": {"rank": 4, "alpha": 8, "dropout": 0.1},
                 "training": {"maxSteps": %d, "learningRate": 1e-3, "warmupSteps": 2, "gradientAccumulationSteps": 2,
                              "schedule": "cosine", "seed": 7},
                 "checkpoint": {"everySteps": 2, "keep": 2}}""".formatted(maxSteps));
    }

    private TrainingRun.Result run(JobConfig job, Path checkpoints, String resume) {
        return run(job, checkpoints, resume, Long.MAX_VALUE);
    }

    /** {@code stopAfter} ends the process early, as a preempted pod would, after a checkpoint at that step. */
    private TrainingRun.Result run(JobConfig job, Path checkpoints, String resume, long stopAfter) {
        RankEnv env = RankEnv.from(Map.of("CHECKPOINT_DIR", checkpoints.toString(), "RESUME_FROM", resume));
        try (CpuBackend backend = new CpuBackend(1)) {
            return new TrainingRun(job, env, backend, ProgressSink.none(), msg -> { }).stopAfter(stopAfter).run();
        }
    }

    @Test
    void resumedTrainingEqualsStraightTraining() throws Exception {
        TrainingRun.Result straight = run(job(6), dir.resolve("a"), "latest");
        assertEquals(6, straight.losses().size());

        TrainingRun.Result firstHalf = run(job(6), dir.resolve("c"), "latest", 3);
        assertEquals(null, firstHalf.adapterDir(), "an interrupted run writes no adapter");
        assertTrue(Files.exists(dir.resolve("c/step-3/COMPLETE")), "interruption saves a checkpoint first");
        TrainingRun.Result secondHalf = run(job(6), dir.resolve("c"), "latest");
        assertEquals(0, firstHalf.firstStep());
        assertEquals(3, secondHalf.firstStep(), "resumed after step 3");
        List<Double> joined = new ArrayList<>(firstHalf.losses());
        joined.addAll(secondHalf.losses());
        assertEquals(straight.losses(), joined, "identical losses, step by step");
        assertAdaptersIdentical(straight.adapterDir(), secondHalf.adapterDir());

        assertNotEquals(straight.losses().get(0), straight.losses().get(5), "training changes the loss");
        assertTrue(Files.exists(dir.resolve("c/step-6/COMPLETE")));
        assertEquals(List.of("step-4", "step-6"), list(dir.resolve("c")), "keep 2: the newest two");
    }

    @Test
    void resumeNoneStartsOverAndAFinishedJobDoesNothingMore() {
        run(job(2), dir.resolve("d"), "latest");
        TrainingRun.Result again = run(job(2), dir.resolve("d"), "latest");
        assertEquals(2, again.firstStep());
        assertTrue(again.losses().isEmpty(), "already at maxSteps");
        TrainingRun.Result fresh = run(job(2), dir.resolve("d"), "none");
        assertEquals(0, fresh.firstStep());
        assertEquals(2, fresh.losses().size());
    }

    private static List<String> list(Path p) throws Exception {
        try (var s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
    }

    static void assertAdaptersIdentical(Path a, Path b) {
        try (SafetensorsReader ra = SafetensorsReader.open(a.resolve("adapter_model.safetensors"));
             SafetensorsReader rb = SafetensorsReader.open(b.resolve("adapter_model.safetensors"))) {
            assertEquals(ra.names(), rb.names());
            for (String n : ra.names()) assertArrayEquals(ra.read(n).values(), rb.read(n).values(), n);
        }
    }
}

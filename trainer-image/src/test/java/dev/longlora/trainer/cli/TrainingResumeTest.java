package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.RankEnv;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.checkpoint.CheckpointManager;
import dev.longlora.trainer.checkpoint.CheckpointState;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.train.ProgressSink;
import dev.longlora.trainer.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** N + N steps with a checkpoint in between give exactly what 2N steps straight give: parameters and losses. */
class TrainingResumeTest {

    @TempDir
    Path dir;

    static JobConfig job(int maxSteps) {
        return JobConfigJson.parse("""
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
            return new TrainingRun(job, env, backend, ProgressSink.none(), msg -> {})
                    .stopAfter(stopAfter)
                    .run();
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
        assertEquals(6, joined.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(straight.losses().get(i), joined.get(i), "loss of step " + (i + 1));
        }
        assertAdaptersMatch(straight.adapterDir(), secondHalf.adapterDir());

        // Control: the same resume with the optimizer moments zeroed must be clearly off.
        CheckpointManager source = new CheckpointManager(dir.resolve("c"), 5, m -> {});
        CheckpointState s4 = source.load(4); // step-3 itself was pruned (keep 2)
        Map<String, TensorData> zeroed = new java.util.LinkedHashMap<>();
        s4.optimizer()
                .forEach((k, v) ->
                        zeroed.put(k, k.endsWith(".step") ? v : new TensorData(v.shape(), new float[v.numel()])));
        new CheckpointManager(dir.resolve("broken"), 5, m -> {})
                .save(new CheckpointState(
                        s4.step(),
                        s4.dataPosition(),
                        s4.seed(),
                        s4.dropoutCounter(),
                        s4.trainable(),
                        zeroed,
                        s4.optimizerStep(),
                        s4.scalars()));
        TrainingRun.Result lost = run(job(6), dir.resolve("broken"), "latest");
        double worst = 0;
        for (int i = 0; i < 2; i++)
            worst = Math.max(
                    worst, Math.abs(lost.losses().get(i) - straight.losses().get(4 + i)));
        assertTrue(worst > 1e-4, "losing the optimizer state must show: worst difference " + worst);

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

    @Test
    void aStopRequestSavesACheckpointAfterTheCurrentStep() {
        RankEnv env = RankEnv.from(Map.of("CHECKPOINT_DIR", dir.resolve("e").toString()));
        try (CpuBackend backend = new CpuBackend(1)) {
            TrainingRun[] run = new TrainingRun[1];
            ProgressSink stopAtTwo = new ProgressSink() {
                public void start(long firstStep, long totalSteps) {}

                public void step(StepProgress p) {
                    if (p.step() == 3) run[0].requestStop(); // as the SIGTERM hook does, from another thread
                }

                public void checkpoint(long step, Path path) {}

                public void finish() {}
            };
            run[0] = new TrainingRun(job(5), env, backend, stopAtTwo, m -> {});
            TrainingRun.Result r = run[0].run();
            assertEquals(3, r.lastStep());
            assertEquals(null, r.adapterDir());
        }
        assertTrue(
                Files.exists(dir.resolve("e/step-3/COMPLETE")),
                "saved at the stop although checkpoint.everySteps is 2");
        assertEquals(3, run(job(5), dir.resolve("e"), "latest", 4).firstStep());
    }

    private static List<String> list(Path p) throws Exception {
        try (var s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString())
                    .filter(n -> n.startsWith("step-"))
                    .sorted()
                    .toList();
        }
    }

    static void assertAdaptersMatch(Path a, Path b) {
        try (SafetensorsReader ra = SafetensorsReader.open(a.resolve("adapter_model.safetensors"));
                SafetensorsReader rb = SafetensorsReader.open(b.resolve("adapter_model.safetensors"))) {
            assertEquals(ra.names(), rb.names());
            for (String n : ra.names()) {
                float[] x = ra.read(n).values();
                float[] y = rb.read(n).values();
                assertEquals(x.length, y.length, n);
                for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], n + "[" + i + "]");
            }
        }
    }
}

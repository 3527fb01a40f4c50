package dev.longlora.trainer.bench;

import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.RankEnv;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.train.ProgressSink;
import dev.longlora.trainer.train.RankGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Weak scaling of data-parallel steps: 1, 2, 4 ... thread ranks in this JVM, each with one backend thread and the
 * same per-rank work (one window a step), so the global batch grows with the ranks. Prints the median step time
 * (after warm-up steps), global tokens/s and the efficiency against one rank. On a machine with fewer cores than
 * ranks the ranks share cores, so efficiency falls with the core count, not only with the collectives.
 *
 * <p>usage: {@code bin/bench DataParallelBenchmark [MAX_RANKS (default 4)] [STEPS (default 6)] [SEQ_LEN (default
 * 256)] [ZERO_STAGE (default 2)]}
 */
public final class DataParallelBenchmark {
    private static final int WARMUP = 2;

    private DataParallelBenchmark() {}

    public static void main(String[] args) throws Exception {
        int maxRanks = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        int seqLen = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int zeroStage = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        System.out.printf(
                Locale.ROOT,
                "builtin:tiny, context %d, one window per rank a step, ZeRO %d, %d cores%n%6s %14s %14s %12s%n",
                seqLen,
                zeroStage,
                Runtime.getRuntime().availableProcessors(),
                "ranks",
                "median step s",
                "tokens/s",
                "efficiency");
        double oneRank = 0;
        for (int world = 1; world <= maxRanks; world *= 2) {
            double median = medianStep(world, steps, seqLen, zeroStage);
            if (world == 1) oneRank = median;
            System.out.printf(
                    Locale.ROOT,
                    "%6d %14.4f %14.0f %11.0f%%%n",
                    world,
                    median,
                    world * seqLen / median,
                    100 * oneRank / median);
        }
    }

    private static double medianStep(int world, int steps, int seqLen, int zeroStage) throws Exception {
        Path dir = Files.createTempDirectory("longlora-dp-bench");
        JobConfig job = JobConfigJson.parse("""
                {"model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic"},
                 "context": {"originalLength": %d, "targetLength": %d},
                 "attention": {"pattern": "s2", "groups": 4},
                 "training": {"maxSteps": %d, "gradientAccumulationSteps": 1, "warmupSteps": 1},
                 "distributed": {"nodes": 1, "gpusPerNode": %d, "zeroStage": %d},
                 "checkpoint": {"everySteps": 1000000}}""".formatted(seqLen / 2, seqLen, WARMUP + steps, world, zeroStage));
        RankEnv env = RankEnv.from(Map.of(
                "NNODES", "1",
                "GPUS_PER_NODE", Integer.toString(world),
                "WORLD_SIZE", Integer.toString(world),
                "CHECKPOINT_DIR", dir.toString(),
                "RESUME_FROM", "none"));
        List<Long> stamps = Collections.synchronizedList(new ArrayList<>());
        ProgressSink timing = new ProgressSink() {
            public void start(long firstStep, long totalSteps) {
                stamps.add(System.nanoTime());
            }

            public void step(StepProgress progress) {
                stamps.add(System.nanoTime());
            }

            public void checkpoint(long step, Path path) {}

            public void finish() {}
        };
        new RankGroup(job, env, i -> new CpuBackend(1), timing, m -> {}).run();
        List<Double> times = new ArrayList<>();
        for (int i = WARMUP + 1; i < stamps.size(); i++) {
            times.add((stamps.get(i) - stamps.get(i - 1)) / 1e9);
        }
        Collections.sort(times);
        return times.get(times.size() / 2);
    }
}

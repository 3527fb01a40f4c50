package dev.longlora.trainer.bench;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.train.AdamWConfig;
import dev.longlora.trainer.train.LrSchedule;
import dev.longlora.trainer.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokens/s of one LongLoRA training step (S2-Attn, LoRA r=8 on q/k/v/o, trainable embedding and norms, AdamW, grad
 * clipping) on the CPU backend, with and without gradient checkpointing, against the PyTorch peer
 * (trainer-bench/src/main/python/torch_train_step.py, same shapes and threads) in the same run. Prints a table.
 *
 * <pre>
 * bin/bench TrainStepBenchmark [--threads 2] [--steps 5] [--warmup 3] [--rounds 2] [--seq 1024]
 *     [--python PYTHON (default $LONGLORA_TORCH_PYTHON)] [--no-torch] [--profile]
 * </pre>
 */
public final class TrainStepBenchmark {
    private TrainStepBenchmark() {}

    /** Step time is the best of the timed steps: on a shared machine other load only ever adds time. */
    record Result(
            String impl,
            boolean checkpointing,
            double stepSeconds,
            double medianSeconds,
            double tokensPerSecond,
            long peakBytes,
            String memoryNote) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        int threads = Integer.parseInt(opt.getOrDefault("threads", "2"));
        int steps = Integer.parseInt(opt.getOrDefault("steps", "5"));
        int warmup = Integer.parseInt(opt.getOrDefault("warmup", "3"));
        int seq = Integer.parseInt(opt.getOrDefault("seq", "1024"));
        String python = opt.getOrDefault("python", System.getenv().getOrDefault("LONGLORA_TORCH_PYTHON", "python3"));
        LlamaConfig config = new LlamaConfig(4096, 256, 688, 4, 8, 8, 1e-5, 10000.0, 256, 4.0, false);

        System.out.printf(
                Locale.ROOT,
                "LongLoRA training step: %d layers, hidden %d, intermediate %d, %d heads, vocab %d,"
                        + " context %d, S2 (4 groups), LoRA r=8 q/k/v/o + embed + norms, %d threads%n",
                config.numLayers(),
                config.hiddenSize(),
                config.intermediateSize(),
                config.numHeads(),
                config.vocabSize(),
                seq,
                threads);
        if (opt.containsKey("profile")) {
            profile(config, seq, threads, warmup, steps);
            return;
        }
        int rounds = Integer.parseInt(opt.getOrDefault("rounds", "2"));
        List<Result> results = new ArrayList<>();
        // Let the JIT compile both code paths first (the Vector API is slow until C2 has compiled its callers), so the
        // first timed configuration is not penalised.
        runJava(config, seq, threads, 2 * warmup, 1, true);
        runJava(config, seq, threads, warmup, 1, false);
        // Interleave the runs, several rounds, and keep each configuration's best: both sides then see the same load.
        for (int round = 0; round < rounds; round++) {
            for (boolean ckpt : new boolean[] {true, false}) {
                keepBest(results, runJava(config, seq, threads, warmup, steps, ckpt));
                if (!opt.containsKey("no-torch")) {
                    keepBest(results, runTorch(python, seq, threads, warmup, steps, ckpt));
                }
            }
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-8s %-13s %11s %13s %12s %10s  %s%n",
                "impl",
                "checkpointing",
                "best step s",
                "median step s",
                "tokens/s",
                "peak MiB",
                "memory measured as");
        for (Result r : results) {
            System.out.printf(
                    Locale.ROOT,
                    "%-8s %-13s %11.3f %13.3f %12.1f %10.1f  %s%n",
                    r.impl,
                    r.checkpointing ? "on" : "off",
                    r.stepSeconds,
                    r.medianSeconds,
                    r.tokensPerSecond,
                    r.peakBytes / 1048576.0,
                    r.memoryNote);
        }
        for (boolean ckpt : new boolean[] {true, false}) {
            Result java = find(results, "java", ckpt);
            Result torch = find(results, "pytorch", ckpt);
            if (java != null && torch != null && torch.tokensPerSecond > 0) {
                System.out.printf(
                        Locale.ROOT,
                        "ratio java/pytorch tokens/s, checkpointing %s: %.2fx (best steps), %.2fx (medians)%n",
                        ckpt ? "on" : "off",
                        java.tokensPerSecond / torch.tokensPerSecond,
                        torch.medianSeconds / java.medianSeconds);
            }
        }
        Result on = find(results, "java", true);
        Result off = find(results, "java", false);
        System.out.printf(
                Locale.ROOT,
                "java activation memory saved by checkpointing: %.1f MiB (%.1f -> %.1f MiB peak)%n",
                (off.peakBytes - on.peakBytes) / 1048576.0,
                off.peakBytes / 1048576.0,
                on.peakBytes / 1048576.0);
    }

    private static void keepBest(List<Result> results, Result r) {
        Result old = find(results, r.impl(), r.checkpointing());
        if (old == null) {
            results.add(r);
        } else if (!(old.stepSeconds() <= r.stepSeconds())) {
            results.set(results.indexOf(old), r);
        }
    }

    private static Result find(List<Result> rs, String impl, boolean ckpt) {
        return rs.stream()
                .filter(r -> r.impl.equals(impl) && r.checkpointing == ckpt)
                .findFirst()
                .orElse(null);
    }

    /** Where the time of a step goes, per backend op (checkpointing on). */
    static void profile(LlamaConfig config, int seq, int threads, int warmup, int steps) {
        try (ProfilingBackend be = new ProfilingBackend(new CpuBackend(threads));
                LlamaModel model = new LlamaModel(config, LoraConfig.longLora(), be, 1);
                Trainer trainer =
                        new Trainer(model, AdamWConfig.longLora(), LrSchedule.constantWithWarmup(2e-5, 0), 1.0)) {
            int[] tokens =
                    new SplittableRandom(2).ints(seq, 0, config.vocabSize()).toArray();
            for (int i = 0; i < warmup + steps; i++) {
                if (i == warmup) {
                    be.reset();
                }
                trainer.step(List.of(Trainer.Sample.of(tokens)), AttentionSpec.s2(4));
            }
            System.out.println("per-op wall time over " + steps + " steps:");
            System.out.print(be.report());
        }
    }

    static Result runJava(LlamaConfig config, int seq, int threads, int warmup, int steps, boolean ckpt) {
        try (CpuBackend be = new CpuBackend(threads);
                LlamaModel model = new LlamaModel(config.withRopeScalingFactor(4.0), LoraConfig.longLora(), be, 1);
                Trainer trainer =
                        new Trainer(model, AdamWConfig.longLora(), LrSchedule.constantWithWarmup(2e-5, 0), 1.0)) {
            model.setGradientCheckpointing(ckpt);
            SplittableRandom rng = new SplittableRandom(2);
            int[] tokens = new int[seq];
            for (int i = 0; i < seq; i++) {
                tokens[i] = rng.nextInt(config.vocabSize());
            }
            AttentionSpec s2 = AttentionSpec.s2(4);
            StepTimer.Times t = StepTimer.time(
                    warmup,
                    steps,
                    be::resetPeakBytes,
                    () -> {},
                    () -> trainer.step(List.of(Trainer.Sample.of(tokens)), s2).loss());
            double[] times = t.sortedSeconds();
            double median = t.median();
            System.out.printf(
                    Locale.ROOT,
                    "java    checkpointing %-3s: best step %.3f s, median %.3f s over %d steps (%s)%n",
                    ckpt ? "on" : "off",
                    times[0],
                    median,
                    steps,
                    be.name());
            return new Result(
                    "java",
                    ckpt,
                    times[0],
                    median,
                    seq / times[0],
                    be.peakBytes(),
                    "all tensors (weights+grads+Adam+activations), backend accounting");
        }
    }

    static Result runTorch(String python, int seq, int threads, int warmup, int steps, boolean ckpt)
            throws IOException, InterruptedException {
        Path script = RepoFiles.pythonPeer("torch_train_step.py");
        List<String> cmd = new ArrayList<>(List.of(
                python,
                script.toString(),
                "--seq",
                "" + seq,
                "--threads",
                "" + threads,
                "--warmup",
                "" + warmup,
                "--steps",
                "" + steps));
        if (ckpt) {
            cmd.add("--checkpointing");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "" + threads);
        pb.environment().put("OPENBLAS_NUM_THREADS", "" + threads);
        // OpenMP's default spin-waiting fights the BLAS's own threads (and any other load) for the same cores and
        // made the peer ~8x slower here; passive waiting is the peer's best configuration.
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1800, TimeUnit.SECONDS) || p.exitValue() != 0) {
            System.out.println("pytorch peer failed: " + out);
            return new Result("pytorch", ckpt, Double.NaN, Double.NaN, 0, 0, "failed");
        }
        String json = out.strip().lines().reduce((a, b) -> b).orElse("");
        double step = number(json, "best_step_s");
        double median = number(json, "step_s");
        System.out.printf(
                Locale.ROOT,
                "pytorch checkpointing %-3s: best step %.3f s, median %.3f s (torch %s, BLAS %s)%n",
                ckpt ? "on" : "off",
                step,
                median,
                string(json, "torch"),
                string(json, "blas"));
        return new Result(
                "pytorch",
                ckpt,
                step,
                median,
                seq / step,
                (long) number(json, "peak_rss_growth_bytes"),
                "process RSS growth during training (weights excluded)");
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\\s*([-0-9.eE+]+)").matcher(json);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : "?";
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (key.equals("no-torch") || key.equals("profile")) {
                out.put(key, "true");
            } else if (i + 1 < args.length) {
                out.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + key + " needs a value");
            }
        }
        return out;
    }
}

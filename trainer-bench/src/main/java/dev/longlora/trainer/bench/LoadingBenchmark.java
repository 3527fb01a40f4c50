package dev.longlora.trainer.bench;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Loading benchmark: makes a multi-GB sharded bf16 LLaMA checkpoint with random weights (once), then, each in a
 * fresh process, opens it and evaluates one window: this trainer (memory-mapped shards copied into fp32 parameters,
 * one shard mapped at a time) and the Python peer {@code trainer-bench/src/main/python/safetensors_load_eval.py}
 * ({@code safetensors.safe_open} + PyTorch, the same forward in fp32). Prints wall time and peak RSS of each.
 *
 * <pre>bin/bench LoadingBenchmark [--dir DIR] [--seq-len 256] [--python PY] [--threads 2]</pre>
 */
public final class LoadingBenchmark {
    /** ~740 M parameters: 1.48 GB in bf16, three shards. */
    static final LlamaConfig CONFIG = new LlamaConfig(32000, 2048, 5504, 12, 16, 16, 1e-5, 10000.0, 4096, 1.0, false);

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "longlora-loading-bench");
        int seqLen = 256;
        int threads = Runtime.getRuntime().availableProcessors();
        String python = System.getenv().getOrDefault("LONGLORA_PEFT_PYTHON", "python3");
        String measure = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--seq-len" -> seqLen = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--python" -> python = args[++i];
                case "--measure" -> measure = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (measure != null) {
            measureOurs(Path.of(measure), seqLen, threads);
            return;
        }
        if (!Files.exists(dir.resolve(ModelDirectory.INDEX_FILE))) {
            long t0 = System.nanoTime();
            generate(dir);
            System.out.printf(Locale.ROOT, "generated %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
        }
        long bytes = 0;
        for (Path p : ModelDirectory.weightFiles(dir)) bytes += Files.size(p);
        System.out.printf(
                Locale.ROOT,
                "checkpoint: %d shards, %.2f GB bf16, %.0f M parameters; window %d tokens, %d threads%n",
                ModelDirectory.weightFiles(dir).size(),
                bytes / 1e9,
                paramCount() / 1e6,
                seqLen,
                threads);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        // A heap just big enough (fp32 parameters + one fp32 tensor in flight + 184 MiB; 150 MiB less runs out of
        // memory): the JVM's RSS is its heap high-water mark, and a roomier heap only fills with collectable garbage
        // before the first full GC. The serial collector with a small young generation leaves nearly all of it to
        // the old generation, where the parameters live.
        long heap = paramCount() * 4 + largestTensor() * 4 + (184L << 20);
        List<String> ours = List.of(
                javaBin,
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC",
                "-Xmn32m",
                "-Xmx" + (heap >> 20) + "m",
                "-cp",
                cp,
                LoadingBenchmark.class.getName(),
                "--measure",
                dir.toString(),
                "--seq-len",
                Integer.toString(seqLen),
                "--threads",
                Integer.toString(threads));
        Path script = RepoFiles.pythonPeer("safetensors_load_eval.py");
        List<String> peer =
                List.of(python, script.toString(), dir.toString(), Integer.toString(seqLen), Integer.toString(threads));
        System.out.println("impl                          open+load s  window s   total s   peak RSS MiB   loss");
        System.out.println(run("Java (mmap, fp32 params)", ours));
        System.out.println(run("Python safe_open + PyTorch", peer));
    }

    private static String run(String label, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("OMP_NUM_THREADS", command.get(command.size() - 1));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0) return String.format("%-28s  failed (exit %d): %s", label, p.exitValue(), out);
        String last = out.lines().reduce((a, b) -> b).orElse("");
        String[] f = last.split("\\s+"); // "RESULT load window rssKiB loss"
        if (f.length < 5 || !f[0].equals("RESULT")) return label + ": unexpected output " + out;
        double load = Double.parseDouble(f[1]), window = Double.parseDouble(f[2]);
        String init = f.length > 5
                ? String.format(Locale.ROOT, "  (+ %.2f s building the model before loading)", Double.parseDouble(f[5]))
                : "";
        return String.format(
                Locale.ROOT,
                "%-28s  %10.2f  %8.2f  %8.2f  %13.0f   %s%s",
                label,
                load,
                window,
                load + window,
                Long.parseLong(f[3]) / 1024.0,
                f[4],
                init);
    }

    /** In a fresh JVM: open the directory, load the weights, evaluate one window; print times and VmHWM. */
    private static void measureOurs(Path dir, int seqLen, int threads) throws IOException {
        long t0 = System.nanoTime();
        double loss;
        long t1;
        long tInit;
        try (CpuBackend backend = new CpuBackend(threads)) {
            LlamaConfig config = ModelDirectory.readConfig(dir);
            // Parameters are allocated without a random fill (as ModelLoader does); building is timed apart.
            LlamaModel model = LlamaModel.forLoading(config, LoraConfig.frozen(), backend, 0);
            tInit = System.nanoTime() - t0;
            ModelDirectory.loadWeights(dir, model.parameters());
            t1 = System.nanoTime();
            int[] tokens = windowTokens(seqLen, config.vocabSize());
            loss = model.loss(tokens, tokens, AttentionSpec.full());
            model.close();
        }
        long t2 = System.nanoTime();
        System.out.printf(
                Locale.ROOT,
                "RESULT %.3f %.3f %d %.6f %.3f%n",
                (t1 - t0 - tInit) / 1e9,
                (t2 - t1) / 1e9,
                peakRssKiB(),
                loss,
                tInit / 1e9);
    }

    /** The evaluated window: the same pseudo-random ids the Python peer draws (a 64-bit LCG, ids mod vocab). */
    static int[] windowTokens(int n, int vocab) {
        int[] t = new int[n];
        long x = 12345;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            t[i] = (int) Long.remainderUnsigned(x >>> 33, vocab);
        }
        return t;
    }

    static long peakRssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    static long largestTensor() {
        long n = 0;
        for (int[] s : LlamaTensors.baseShapes(CONFIG).values()) n = Math.max(n, TensorData.numel(s));
        return n;
    }

    static long paramCount() {
        long n = 0;
        for (int[] s : LlamaTensors.baseShapes(CONFIG).values()) n += TensorData.numel(s);
        return n;
    }

    /** Random bf16 weights (N(0, 0.02)-like spread, norms 1) in shards of at most 512 MB, with the index. */
    static void generate(Path dir) throws IOException {
        Files.createDirectories(dir);
        HfConfigJson.write(dir.resolve(HfConfigJson.FILE_NAME), CONFIG);
        Map<String, int[]> shapes = LlamaTensors.baseShapes(CONFIG);
        List<List<String>> shards = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            long b = TensorData.numel(e.getValue()) * 2;
            if (!cur.isEmpty() && bytes + b > (512L << 20)) {
                shards.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(e.getKey());
            bytes += b;
        }
        shards.add(cur);
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        SplittableRandom rng = new SplittableRandom(7);
        for (int s = 0; s < shards.size(); s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (String t : shards.get(s)) {
                int[] shape = shapes.get(t);
                float[] v = new float[Math.toIntExact(TensorData.numel(shape))];
                if (t.endsWith("norm.weight")) {
                    java.util.Arrays.fill(v, 1f);
                } else {
                    for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() - 0.5) * 0.07);
                }
                tensors.put(t, new TensorData(shape, v));
                index.append(index.charAt(index.length() - 1) == '{' ? "" : ", ")
                        .append('"')
                        .append(t)
                        .append("\": \"")
                        .append(name)
                        .append('"');
            }
            SafetensorsWriter.write(dir.resolve(name), tensors, Map.of("format", "pt"), SafetensorsDtype.BF16, false);
        }
        Files.writeString(
                dir.resolve(ModelDirectory.INDEX_FILE), index.append("}}").toString());
    }
}

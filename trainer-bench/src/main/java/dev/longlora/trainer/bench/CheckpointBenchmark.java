package dev.longlora.trainer.bench;

import dev.longlora.contract.ResumeFrom;
import dev.longlora.trainer.checkpoint.CheckpointManager;
import dev.longlora.trainer.checkpoint.CheckpointState;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Prints the cost of the trainer's file I/O on this machine: safetensors write/read throughput (F32 and BF16) and
 * one atomic checkpoint save + verified load, for a trainable set of the given size.
 *
 * <p>usage: {@code bin/bench CheckpointBenchmark [MILLION_PARAMS (default 64)] [DIR (default a temp dir)]}
 */
public final class CheckpointBenchmark {
    private CheckpointBenchmark() {}

    public static void main(String[] args) throws Exception {
        int millions = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("longlora-io-bench");
        Files.createDirectories(dir);
        int perTensor = 1 << 22;
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        long total = (long) millions * 1_000_000;
        for (int i = 0; (long) i * perTensor < total; i++) {
            int n = (int) Math.min(perTensor, total - (long) i * perTensor);
            float[] v = new float[n];
            for (int j = 0; j < n; j++) v[j] = (float) Math.sin(j * 0.001 + i);
            tensors.put("t" + i, new TensorData(new int[] {n}, v));
        }
        double mb = total * 4 / 1e6;
        System.out.printf(Locale.ROOT, "trainable set: %d M fp32 parameters (%.0f MB), dir %s%n", millions, mb, dir);
        for (SafetensorsDtype dtype : new SafetensorsDtype[] {SafetensorsDtype.F32, SafetensorsDtype.BF16}) {
            Path f = dir.resolve("bench-" + dtype + ".safetensors");
            long t0 = System.nanoTime();
            SafetensorsWriter.write(f, tensors, Map.of(), dtype, true);
            long t1 = System.nanoTime();
            double sum = 0;
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String n : r.names()) sum += r.read(n).values()[0];
            }
            long t2 = System.nanoTime();
            System.out.printf(
                    Locale.ROOT,
                    "%-4s write+fsync %7.0f MB/s   read (mmap -> fp32) %7.0f MB/s (of fp32 output)  [%s]%n",
                    dtype,
                    mb / ((t1 - t0) / 1e9),
                    mb / ((t2 - t1) / 1e9),
                    sum > -1e30 ? "ok" : "");
            Files.delete(f);
        }
        CheckpointManager m = new CheckpointManager(dir.resolve("checkpoints"), 1, System.out::println);
        Map<String, TensorData> optimizer = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            optimizer.put(k + ".exp_avg", v);
            optimizer.put(k + ".exp_avg_sq", v);
        });
        long t0 = System.nanoTime();
        m.save(new CheckpointState(1, 1, 1, 0, tensors, optimizer, 1, Map.of()));
        long t1 = System.nanoTime();
        m.resolve(new ResumeFrom.Latest()).orElseThrow();
        long t2 = System.nanoTime();
        System.out.printf(
                Locale.ROOT,
                "checkpoint (weights + AdamW m, v = %.0f MB): save %.2f s, verified load %.2f s%n",
                3 * mb,
                (t1 - t0) / 1e9,
                (t2 - t1) / 1e9);
    }
}

package dev.longlora.trainer.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Training on the CPU backend is a function of its inputs alone: neither whether the JIT has compiled the hot loops
 * (the Vector API's interpreted fallback and C2's intrinsics must agree bit for bit) nor the number of threads
 * changes a single bit of the losses or parameters.
 */
class CpuDeterminismTest {
    private static final int TOKENS = 32;
    private static final int INTERMEDIATE = 40;

    @Test
    void interpreterAndCompiledCodeTrainBitIdentically() throws Exception {
        // -Xint never compiles: every vector op runs its scalar Java fallback. The second JVM compiles with C2 from the
        // 100th call on, synchronously, so the intrinsified paths run for most of the steps.
        String interpreted = probe(List.of("-Xint"), 1);
        String compiled =
                probe(List.of("-XX:-TieredCompilation", "-XX:CompileThreshold=100", "-XX:-BackgroundCompilation"), 1);
        assertEquals(interpreted, compiled, "losses and parameters after training, interpreter vs C2");
    }

    @Test
    void threadCountDoesNotChangeTraining() {
        // 64 tokens x 344 MLP width: 1 thread cuts SwiGLU into 4 vector-aligned chunks, 2 threads into 5 unaligned
        // ones, so elements move between vector bodies and scalar tails.
        assertEquals(DeterminismProbe.run(1, 64, 344), DeterminismProbe.run(2, 64, 344));
    }

    /** Runs {@link DeterminismProbe} in a child JVM with the given options and returns its hash line. */
    private static String probe(List<String> jvmOptions, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules=jdk.incubator.vector");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DeterminismProbe.class.getName());
        cmd.add(Integer.toString(threads));
        cmd.add(Integer.toString(TOKENS));
        cmd.add(Integer.toString(INTERMEDIATE));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe JVM did not finish: " + cmd);
        assertEquals(0, p.exitValue(), "probe JVM " + jvmOptions + " failed:\n" + out);
        return out.lines()
                .filter(l -> l.startsWith("hash="))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no hash line from probe JVM " + jvmOptions + ":\n" + out));
    }
}

package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.ResumeFrom;
import dev.longlora.trainer.checkpoint.CheckpointManager;
import dev.longlora.trainer.checkpoint.CheckpointState;
import dev.longlora.trainer.io.TensorData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two trainer JVMs as the two pods of a CPU gang (NNODES=2, GPUS_PER_NODE=0), meeting through a TCP rendezvous on
 * loopback: they train the bits two thread ranks train; SIGKILL of one makes the other exit 10 (LostPeer) naming it;
 * SIGTERM to one stops both at the same step with a checkpoint there (exit 11).
 */
class TwoProcessTrainingTest {
    private static final Pattern STEP = Pattern.compile("^step (\\d+)/");
    private static final int COLLECTIVE_TIMEOUT_SECONDS = 10;

    @TempDir
    Path dir;

    private static List<String> flags(Path checkpoints, long maxSteps, int nodes, int gpusPerNode) {
        return TrainerProcess.tinyTrain(
                checkpoints,
                maxSteps,
                "--set",
                "distributed.nodes=" + nodes,
                "--set",
                "distributed.gpusPerNode=" + gpusPerNode,
                "--set",
                "distributed.collectiveTimeoutSeconds=" + COLLECTIVE_TIMEOUT_SECONDS,
                "--set",
                "distributed.rendezvousTimeoutSeconds=60");
    }

    /** Pod {@code nodeRank} of the two-pod gang, in its own small JVM. */
    private static ProcessBuilder pod(int nodeRank, int port, Path checkpoints, long maxSteps, Path log) {
        return pod(nodeRank, 0, port, checkpoints, maxSteps, log);
    }

    /** Pod {@code nodeRank} of two, running {@code max(1, gpusPerNode)} CPU ranks as threads; {@code sets}: more --set. */
    private static ProcessBuilder pod(
            int nodeRank, int gpusPerNode, int port, Path checkpoints, long maxSteps, Path log, String... sets) {
        List<String> flags = new ArrayList<>(flags(checkpoints, maxSteps, 2, gpusPerNode));
        for (String set : sets) flags.addAll(List.of("--set", set));
        ProcessBuilder pb = TrainerProcess.of(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), flags)
                .redirectErrorStream(true);
        pb.environment()
                .putAll(Map.of(
                        "NNODES", "2",
                        "NODE_RANK", Integer.toString(nodeRank),
                        "GPUS_PER_NODE", Integer.toString(gpusPerNode),
                        "WORLD_SIZE", Integer.toString(2 * Math.max(1, gpusPerNode)),
                        "MASTER_ADDR", "127.0.0.1",
                        "MASTER_PORT", Integer.toString(port),
                        "LONGLORA_BACKEND", "cpu"));
        if (log != null) pb.redirectOutput(log.toFile());
        return pb;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads rank 0's output until a step >= {@code step} is printed; returns the lines so far. */
    private static List<String> readUntilStep(Process rank0, long step) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader out = new BufferedReader(new InputStreamReader(rank0.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            lines.add(line);
            Matcher m = STEP.matcher(line);
            if (m.find() && Long.parseLong(m.group(1)) >= step) return lines;
        }
        throw new AssertionError("rank 0 ended before step " + step + ":\n" + String.join("\n", lines));
    }

    private static String rest(Process p, List<String> lines) throws IOException {
        lines.add(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return String.join("\n", lines);
    }

    @Test
    void twoPodsTrainTheBitsOfTwoThreadRanks() throws Exception {
        int port = freePort();
        Path tcp = dir.resolve("tcp");
        Path log1 = dir.resolve("rank1.log");
        Process rank1 = pod(1, port, tcp, 3, log1).start();
        Process rank0 = pod(0, port, tcp, 3, null).start();
        String out0 = new String(rank0.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(rank0.waitFor(120, TimeUnit.SECONDS) && rank1.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, rank0.exitValue(), out0);
        assertEquals(0, rank1.exitValue(), Files.readString(log1));
        assertTrue(out0.contains("rank 0 of 2"), out0);

        Path threads = dir.resolve("threads");
        CliHarness r = CliHarness.runWithEnv(
                Map.of("NNODES", "1", "GPUS_PER_NODE", "2", "WORLD_SIZE", "2", "LONGLORA_BACKEND", "cpu"),
                flags(threads, 3, 1, 2).toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        CheckpointState a = finalCheckpoint(tcp, 3);
        CheckpointState b = finalCheckpoint(threads, 3);
        for (Map.Entry<String, TensorData> e : a.trainable().entrySet()) {
            assertArrayEquals(
                    e.getValue().values(), b.trainable().get(e.getKey()).values(), e.getKey());
        }
        assertEquals(a.scalars().get("loss"), b.scalars().get("loss"));
    }

    /**
     * The 70B example's shape, halved: two pods of four thread ranks each with ZeRO-3. Global ranks 0-3 and 4-7 form
     * one TCP ring of eight and train the bits of eight thread ranks in one JVM (GPUS_PER_NODE=8).
     */
    @Test
    void twoPodsOfFourThreadRanksTrainTheBitsOfEightThreadRanksWithZero3() throws Exception {
        int port = freePort();
        Path tcp = dir.resolve("tcp8");
        Path log1 = dir.resolve("rank1-8.log");
        Process pod1 = pod(1, 4, port, tcp, 2, log1, "distributed.zeroStage=3").start();
        Process pod0 = pod(0, 4, port, tcp, 2, null, "distributed.zeroStage=3").start();
        String out0 = new String(pod0.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pod0.waitFor(120, TimeUnit.SECONDS) && pod1.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, pod0.exitValue(), out0);
        assertEquals(0, pod1.exitValue(), Files.readString(log1));
        assertTrue(Files.readString(log1).contains("rank 4 of 8 (4 ranks in this JVM)"), Files.readString(log1));

        Path threads = dir.resolve("threads8");
        List<String> flags = new ArrayList<>(flags(threads, 2, 1, 8));
        flags.addAll(List.of("--set", "distributed.zeroStage=3"));
        CliHarness r = CliHarness.runWithEnv(
                Map.of("NNODES", "1", "GPUS_PER_NODE", "8", "WORLD_SIZE", "8", "LONGLORA_BACKEND", "cpu"),
                flags.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        CheckpointState a = finalCheckpoint(tcp, 2);
        CheckpointState b = finalCheckpoint(threads, 2);
        for (Map.Entry<String, TensorData> e : a.trainable().entrySet()) {
            assertArrayEquals(
                    e.getValue().values(), b.trainable().get(e.getKey()).values(), e.getKey());
        }
    }

    @Test
    void killingOneRankMakesTheOtherExitLostPeerNamingIt() throws Exception {
        int port = freePort();
        Path checkpoints = dir.resolve("kill");
        Process rank1 =
                pod(1, port, checkpoints, 100_000, dir.resolve("rank1.log")).start();
        Process rank0 = pod(0, port, checkpoints, 100_000, null).start();
        List<String> lines = readUntilStep(rank0, 2);
        rank1.destroyForcibly(); // SIGKILL: no goodbye on the socket beyond the kernel closing it
        long killed = System.nanoTime();
        String log = rest(rank0, lines);
        assertTrue(rank0.waitFor(COLLECTIVE_TIMEOUT_SECONDS + 30, TimeUnit.SECONDS), log);
        double seconds = (System.nanoTime() - killed) / 1e9;
        assertEquals(ExitCode.LOST_PEER.code(), rank0.exitValue(), log);
        assertTrue(log.contains("lost peer rank 1 during"), log);
        assertTrue(seconds < COLLECTIVE_TIMEOUT_SECONDS, "a closed connection is noticed at once: " + seconds + " s");
    }

    @Test
    void sigtermToOneRankStopsBothAtTheSameStep() throws Exception {
        int port = freePort();
        Path checkpoints = dir.resolve("term");
        Path log1 = dir.resolve("rank1-term.log");
        Process rank1 = pod(1, port, checkpoints, 100_000, log1).start();
        Process rank0 = pod(0, port, checkpoints, 100_000, null).start();
        List<String> lines = readUntilStep(rank0, 2);
        rank1.destroy(); // SIGTERM to the other pod only
        String log0 = rest(rank0, lines);
        assertTrue(rank0.waitFor(120, TimeUnit.SECONDS) && rank1.waitFor(30, TimeUnit.SECONDS), log0);
        String log1Text = Files.readString(log1);
        assertEquals(ExitCode.STOPPED.code(), rank0.exitValue(), log0);
        assertEquals(ExitCode.STOPPED.code(), rank1.exitValue(), log1Text);
        long step0 = stoppedStep(log0);
        assertEquals(step0, stoppedStep(log1Text), "both ranks stop after the same step");
        Path saved = checkpoints.resolve(CheckpointLayout.stepDirectory(step0));
        assertTrue(Files.isRegularFile(saved.resolve(CheckpointLayout.COMPLETE_MARKER)), saved + " is not complete");
    }

    private static long stoppedStep(String log) {
        Matcher m = Pattern.compile("(?m)^stopped after step (\\d+)").matcher(log);
        assertTrue(m.find(), log);
        return Long.parseLong(m.group(1));
    }

    private static CheckpointState finalCheckpoint(Path checkpoints, long step) {
        return new CheckpointManager(checkpoints, 3, m -> {})
                .resolve(new ResumeFrom.Step(step))
                .orElseThrow();
    }
}

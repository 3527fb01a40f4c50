package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.ExitCode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real trainer process (what the kubelet sends on suspend, preemption or eviction): it finishes the step
 * in progress, saves a checkpoint there, and exits {@code Stopped} (11), so the operator restarts it without counting
 * the restart against backoffLimit; the next run resumes from exactly that step.
 */
class StopOnTermTest {
    private static final Pattern STEP = Pattern.compile("^step (\\d+)/");

    @TempDir
    Path dir;

    @Test
    void sigtermSavesACheckpointAndExitsStopped() throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        Process p = trainer(checkpoints, 100_000).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        long stepBeforeSignal = -1;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
                Matcher m = STEP.matcher(line);
                if (stepBeforeSignal < 0 && m.find() && Long.parseLong(m.group(1)) >= 2) {
                    stepBeforeSignal = Long.parseLong(m.group(1));
                    p.toHandle().destroy(); // SIGTERM, keeping our end of its output open
                }
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the trainer did not exit after SIGTERM");
        assertTrue(stepBeforeSignal >= 2, String.join("\n", lines));
        assertEquals(ExitCode.STOPPED.code(), p.exitValue(), String.join("\n", lines));
        String stopped = lines.stream()
                .filter(l -> l.startsWith("stopped after step "))
                .findFirst()
                .orElseThrow(() -> new AssertionError(String.join("\n", lines)));
        long savedStep = Long.parseLong(stopped.replaceAll("^stopped after step (\\d+).*", "$1"));
        assertTrue(savedStep >= stepBeforeSignal, stopped);
        Path saved = checkpoints.resolve(CheckpointLayout.stepDirectory(savedStep));
        assertTrue(Files.isRegularFile(saved.resolve(CheckpointLayout.COMPLETE_MARKER)), saved + " is not complete");

        Process resumed =
                trainer(checkpoints, savedStep + 1).redirectErrorStream(true).start();
        String log = new String(resumed.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(resumed.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, resumed.exitValue(), log);
        assertTrue(log.contains("resumed from " + saved + " (step " + savedStep + ")"), log);
    }

    /**
     * SIGTERM after the last step, while rank 0 evaluates: the adapter is already published, so the trainer exits
     * Stopped (11, not 143, a counted crash); the restart trains nothing, keeps the recorded final loss, and evaluates
     * again.
     */
    @Test
    void sigtermDuringTheEvaluationExitsStoppedAndTheRestartRedoesIt() throws Exception {
        Path checkpoints = dir.resolve("after");
        Process p = trainer(checkpoints, 2).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
                if (line.startsWith("done: steps")) p.toHandle().destroy(); // SIGTERM as the evaluation starts
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the trainer did not exit after SIGTERM");
        String log = String.join("\n", lines);
        assertEquals(ExitCode.STOPPED.code(), p.exitValue(), log);
        assertTrue(log.contains("after training finished: the adapter is saved"), log);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("results: ")), "stopped before its report: " + log);
        Path adapter = checkpoints.resolve(CheckpointLayout.OUTPUT_DIR).resolve(CheckpointLayout.ADAPTER_DIR);
        Double trainedLoss = dev.longlora.trainer.io.TrainingRecord.read(adapter)
                .orElseThrow()
                .finalLoss();
        assertTrue(trainedLoss != null && trainedLoss > 0, log);

        Process again = trainer(checkpoints, 2).redirectErrorStream(true).start();
        String second = new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(again.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, again.exitValue(), second);
        assertTrue(second.contains("(step 2)") && second.contains("results: "), second);
        assertEquals(
                trainedLoss,
                dev.longlora.trainer.io.TrainingRecord.read(adapter)
                        .orElseThrow()
                        .finalLoss(),
                "a restart that trains nothing keeps the recorded final loss");
    }

    /** `longlora train` on the built-in model in its own JVM. */
    private static ProcessBuilder trainer(Path checkpoints, long maxSteps) {
        return TrainerProcess.of(List.of("-Xmx512m"), TrainerProcess.tinyTrain(checkpoints, maxSteps));
    }
}

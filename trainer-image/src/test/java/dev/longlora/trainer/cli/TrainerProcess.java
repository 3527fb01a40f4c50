package dev.longlora.trainer.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** `longlora` in its own JVM from this test's class path, as a pod runs it: real signals, real exit codes. */
final class TrainerProcess {
    private TrainerProcess() {}

    /** A JVM with {@code jvmOptions} (heap size and the like) running the command line {@code args}. */
    static ProcessBuilder of(List<String> jvmOptions, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return new ProcessBuilder(command);
    }

    /** `train` on the built-in tiny model at 64 tokens (PI from 32), one thread, a log line per step, then {@code extra}. */
    static List<String> tinyTrain(Path checkpoints, long maxSteps, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                "builtin:synthetic",
                "--seq-len",
                "64",
                "--original-length",
                "32",
                "--grad-accum",
                "1",
                "--max-steps",
                Long.toString(maxSteps),
                "--checkpoint-every",
                "100000",
                "--checkpoint-dir",
                checkpoints.toString(),
                "--progress",
                "lines",
                "--threads",
                "1"));
        args.addAll(List.of(extra));
        return args;
    }
}

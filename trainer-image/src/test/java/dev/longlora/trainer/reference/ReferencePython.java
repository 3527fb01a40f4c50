package dev.longlora.trainer.reference;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Python reference venv (torch, transformers, PEFT) that tools/setup.d/20-torch-reference.sh builds and exports
 * as {@code LONGLORA_TORCH_PYTHON} and {@code LONGLORA_PEFT_PYTHON}: required under CI=true, else its absence skips
 * the test with the reason.
 */
public final class ReferencePython {
    private ReferencePython() {}

    /** The interpreter named by {@code variable}, or a failure (CI=true) / skip (elsewhere) saying how to get it. */
    public static String require(String variable) {
        String python = System.getenv(variable);
        if (python != null && !python.isBlank() && Files.isExecutable(Path.of(python))) return python;
        String why = variable + " is not set to the Python reference venv (torch + transformers + PEFT), found '"
                + python + "'; source tools/setup.d/20-torch-reference.sh";
        if ("true".equals(System.getenv("CI"))) fail(why + "; CI=true requires it");
        Assumptions.abort(why);
        return null;
    }

    /** Runs {@code script} (a classpath resource) with {@code args}; returns its last stdout line or fails. */
    public static String runResource(String python, String resource, Path workDir, String... args)
            throws IOException, InterruptedException {
        Path script = workDir.resolve(Path.of(resource).getFileName().toString());
        try (var in = ReferencePython.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing test resource " + resource);
            Files.write(script, in.readAllBytes());
        }
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(List.of(args));
        Path err = workDir.resolve(script.getFileName() + ".stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(resource + " did not finish in 300 s");
        }
        if (p.exitValue() != 0) fail(resource + " exited " + p.exitValue() + ": " + Files.readString(err));
        return out.strip().lines().reduce((a, b) -> b).orElse("");
    }
}

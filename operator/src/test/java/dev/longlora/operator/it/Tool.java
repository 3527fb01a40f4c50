package dev.longlora.operator.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the built command-line tools (kubectl, helm) against the shared API server.
 *
 * <p>Output goes to temporary files rather than pipes so that a chatty command can never block
 * on a full pipe buffer.
 */
public final class Tool {

    private static final long TIMEOUT_SECONDS = 120;

    private final Path binary;
    private final Map<String, String> environment;

    Tool(Path binary, Map<String, String> environment) {
        this.binary = binary;
        this.environment = Map.copyOf(environment);
    }

    /** Runs the tool with the given arguments and returns what it did; never throws on a non-zero exit. */
    public ToolResult run(String... args) {
        return run(List.of(args), null);
    }

    /** Runs the tool with {@code stdin} fed to its standard input (e.g. {@code kubectl apply -f -}). */
    public ToolResult runWithInput(String stdin, String... args) {
        return run(List.of(args), stdin);
    }

    private ToolResult run(List<String> args, String stdin) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(args);
        String shown = binary.getFileName() + " " + String.join(" ", args);
        try {
            Path out = Files.createTempFile("tool-out", ".txt");
            Path err = Files.createTempFile("tool-err", ".txt");
            try {
                ProcessBuilder builder =
                        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
                builder.environment().putAll(environment);
                if (stdin == null) {
                    builder.redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                }
                Process process = builder.start();
                if (stdin != null) {
                    try (var in = process.getOutputStream()) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("`" + shown + "` did not finish in " + TIMEOUT_SECONDS + " s");
                }
                return new ToolResult(shown, process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + shown, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + shown, e);
        }
    }
}

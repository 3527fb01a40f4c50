package dev.longlora.trainer.cli;

import dev.longlora.trainer.config.ConfigException;
import dev.longlora.trainer.eval.NonFiniteLossException;
import dev.longlora.trainer.io.FormatException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Turns a failure into one clear line on stderr and the contract's exit code. Expected failures (bad arguments,
 * bad files, out of memory) print no stack trace unless {@code --debug}; unexpected ones always do, since they
 * are bugs worth reporting.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {

    private final boolean[] debug;

    ErrorReporter(boolean[] debug) {
        this.debug = debug;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        return report(ex, cmd.getErr());
    }

    int report(Throwable ex, PrintWriter err) {
        int code = exitCodeOf(ex);
        String message = switch (code) {
            case ExitCodes.OUT_OF_MEMORY ->
                "out of memory: " + ex.getMessage() + ". The sequence length is too long for "
                        + "this heap: lower context.targetLength (--seq-len), keep gradient checkpointing on, or give the JVM "
                        + "more memory (LONGLORA_JAVA_OPTS=-Xmx...)";
            default -> ex.getMessage() == null ? ex.toString() : ex.getMessage();
        };
        err.println("error: " + message);
        if (debug[0] || code == ExitCodes.UNKNOWN) {
            ex.printStackTrace(err);
        } else {
            err.println("(run with --debug for the stack trace)");
        }
        err.flush();
        return code;
    }

    static int exitCodeOf(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) return ExitCodes.OUT_OF_MEMORY;
        }
        if (ex instanceof FormatException || ex instanceof NonFiniteLossException) return ExitCodes.BAD_MODEL_OR_DATA;
        if (ex instanceof ConfigException
                || ex instanceof IllegalArgumentException
                || ex instanceof CommandLine.ParameterException) {
            return ExitCodes.BAD_CONFIG;
        }
        return ExitCodes.UNKNOWN;
    }
}

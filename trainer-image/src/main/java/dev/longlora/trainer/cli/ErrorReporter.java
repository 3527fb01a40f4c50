package dev.longlora.trainer.cli;

import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.NodeUnfitException;
import dev.longlora.trainer.backend.cuda.NcclException;
import dev.longlora.trainer.dist.LostPeerException;
import dev.longlora.trainer.eval.NonFiniteLossException;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.train.LossDivergedException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Turns a failure into one clear line on stderr and the contract's exit code ({@link ExitCode}). Only classified
 * failures get a permanent code: bad input (2), a bad model or data file (3), out of memory (4), a diverged loss (5).
 * A lost peer rank (10) is classified too, but retryable: the operator restarts the gang.
 * Everything else is a bug or an environment problem: exit 1 (retryable) with the stack trace, because calling it the
 * user's bad config would send them hunting for a mistake they did not make.
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
        ExitCode code = classify(ex);
        String message = switch (code) {
            case OUT_OF_MEMORY ->
                "out of memory: " + ex.getMessage() + ". The sequence length is too long for this heap: lower"
                        + " context.targetLength (--seq-len), keep gradient checkpointing on, or give the JVM more"
                        + " memory (LONGLORA_JAVA_OPTS=-Xmx...)";
            case UNEXPECTED -> "unexpected " + ex + " (a bug: please report it with the stack trace below)";
            default -> ex.getMessage() == null ? ex.toString() : ex.getMessage();
        };
        err.println("error: " + message);
        if (debug[0] || code == ExitCode.UNEXPECTED) {
            ex.printStackTrace(err);
        } else {
            err.println("(run with --debug for the stack trace)");
        }
        err.flush();
        return code.code();
    }

    static int exitCodeOf(Throwable ex) {
        return classify(ex).code();
    }

    static ExitCode classify(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) return ExitCode.OUT_OF_MEMORY;
        }
        return switch (ex) {
            case LossDivergedException e -> ExitCode.LOSS_DIVERGED;
            case LostPeerException e -> ExitCode.LOST_PEER;
            case NodeUnfitException e -> ExitCode.NODE_UNFIT;
            // NCCL's socket and remote errors are a peer or the network going away: restart the gang.
            case NcclException e when e.peerFault() -> ExitCode.LOST_PEER;
            case FormatException e -> ExitCode.BAD_MODEL_OR_DATA;
            case NonFiniteLossException e -> ExitCode.BAD_MODEL_OR_DATA;
            case ConfigException e -> ExitCode.BAD_CONFIG;
            case CommandLine.ParameterException e -> ExitCode.BAD_CONFIG;
            default -> ExitCode.UNEXPECTED;
        };
    }
}

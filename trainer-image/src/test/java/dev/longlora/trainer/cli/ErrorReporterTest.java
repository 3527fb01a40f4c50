package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.eval.NonFiniteLossException;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.train.LossDivergedException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ErrorReporterTest {

    @Test
    void mapsFailuresToTheContractsExitCodes() {
        assertEquals(2, ErrorReporter.exitCodeOf(new ConfigException("x")));
        assertEquals(
                1,
                ErrorReporter.exitCodeOf(new IllegalArgumentException("shape [3] vs [4]")),
                "a bug deep in the code is not the user's bad config");
        assertEquals(1, ErrorReporter.exitCodeOf(new IllegalStateException("x")));
        assertEquals(5, ErrorReporter.exitCodeOf(new LossDivergedException("loss is NaN at step 3")));
        assertEquals(
                10,
                ErrorReporter.exitCodeOf(
                        new dev.longlora.trainer.dist.LostPeerException(3, "allReduce", "it closed the connection")));
        assertEquals(12, ErrorReporter.exitCodeOf(new dev.longlora.contract.NodeUnfitException("no GPU on this node")));
        assertEquals(
                10,
                ErrorReporter.exitCodeOf(new dev.longlora.trainer.backend.cuda.NcclException(
                        "ncclAllReduce", 6, "remote process exited or there was a network error")));
        assertEquals(
                1,
                ErrorReporter.exitCodeOf(
                        new dev.longlora.trainer.backend.cuda.NcclException("ncclAllReduce", 3, "internal error")),
                "an internal NCCL error is not a lost peer");
        assertEquals(3, ErrorReporter.exitCodeOf(new FormatException("x")));
        assertEquals(3, ErrorReporter.exitCodeOf(new NonFiniteLossException("x")));
        assertEquals(4, ErrorReporter.exitCodeOf(new OutOfMemoryError("Java heap space")));
        assertEquals(4, ErrorReporter.exitCodeOf(new RuntimeException(new OutOfMemoryError())));
        assertEquals(1, ErrorReporter.exitCodeOf(new NullPointerException()));
    }

    @Test
    void outOfMemoryGetsAHintAndNoTrace() {
        StringWriter s = new StringWriter();
        int code = new ErrorReporter(new boolean[] {false})
                .report(new OutOfMemoryError("Java heap space"), new PrintWriter(s));
        assertEquals(4, code);
        assertTrue(
                s.toString().contains("out of memory: Java heap space")
                        && s.toString().contains("-Xmx"),
                s.toString());
        assertFalse(s.toString().contains("\tat "));
    }

    @Test
    void unexpectedFailuresAlwaysShowTheirTrace() {
        StringWriter s = new StringWriter();
        assertEquals(
                1,
                new ErrorReporter(new boolean[] {false}).report(new NullPointerException("bug"), new PrintWriter(s)));
        assertTrue(s.toString().contains("\tat "), s.toString());
    }
}

package dev.longlora.trainer.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The quick demo end to end: it checks the pipeline, not the paper's ordering (too noisy at this size). */
class DemoRunnerTest {

    @Test
    void quickRunWritesTheTableWithEveryVariantAndPretrainingLearns(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("results.md");
        var console = new ByteArrayOutputStream();
        var runner =
                new DemoRunner(DemoPlan.quick(), 7, 2, out, new PrintStream(console, true, StandardCharsets.UTF_8));

        assertEquals(0, runner.run());

        List<VariantResult> rows = runner.table().rows();
        assertEquals(Variant.values().length + 1, rows.size(), "the base at its own context plus every variant");
        String written = Files.readString(out);
        for (Variant v : Variant.values()) {
            assertTrue(rows.stream().anyMatch(r -> r.label().equals(v.label())), v.label());
            assertTrue(written.contains(v.label()), "the file lists " + v.label());
        }
        for (VariantResult r : rows) {
            assertTrue(Double.isFinite(r.perplexity()) && r.perplexity() > 1, r.label() + " ppl " + r.perplexity());
            assertTrue(
                    r.passkeyAccuracy().containsKey(64),
                    r.label() + " has passkey accuracy inside the original context");
        }
        for (VariantResult r : rows.subList(1, rows.size())) {
            assertEquals(256, r.contextLength());
            assertTrue(
                    r.passkeyAccuracy().containsKey(256),
                    r.label() + " has passkey accuracy beyond the original context");
        }
        // Fine-tuned variants train exactly their own parameter set: full LoRA+ > plain LoRA.
        long longLora = trainable(rows, Variant.LONGLORA);
        long plain = trainable(rows, Variant.PLAIN_LORA);
        assertTrue(longLora > plain && plain > 0, longLora + " vs " + plain);
        assertEquals(longLora, trainable(rows, Variant.FULL_ATTENTION));

        List<Double> losses = runner.pretrainLosses();
        assertEquals(DemoPlan.quick().pretrainSteps(), losses.size());
        double first = losses.subList(0, 5).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        double last = losses.subList(losses.size() - 5, losses.size()).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        assertTrue(last < first - 0.5, "pretraining loss falls: first steps " + first + ", last steps " + last);

        String log = console.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("pretraining") && log.contains("loss") && log.contains("demo left"), log);
    }

    private static long trainable(List<VariantResult> rows, Variant v) {
        return rows.stream()
                .filter(r -> r.label().equals(v.label()))
                .findFirst()
                .orElseThrow()
                .trainableParams();
    }

    @Test
    void commandRejectsBadThreadsAndDescribesItself() {
        var err = new java.io.StringWriter();
        var cl = new CommandLine(new DemoCommand());
        cl.setErr(new java.io.PrintWriter(err));
        assertEquals(2, cl.execute("--threads", "0"));
        var help = new java.io.StringWriter();
        cl.setOut(new java.io.PrintWriter(help));
        assertEquals(0, cl.execute("--help"));
        assertTrue(help.toString().contains("--quick") && help.toString().contains("--out"), help.toString());
    }
}

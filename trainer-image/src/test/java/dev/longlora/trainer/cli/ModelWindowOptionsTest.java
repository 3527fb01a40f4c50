package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.io.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval and grad share one declaration of model, tokens, window and attention options: same names, same checks. */
class ModelWindowOptionsTest {

    @TempDir
    Path dir;

    private static final String[] WINDOW = {
        "--model", "builtin:tiny", "--tokens", "builtin:synthetic", "--seq-len", "32", "--threads", "1"
    };

    private static String[] with(String command, String... extra) {
        String[] args = new String[1 + WINDOW.length + extra.length];
        args[0] = command;
        System.arraycopy(WINDOW, 0, args, 1, WINDOW.length);
        System.arraycopy(extra, 0, args, 1 + WINDOW.length, extra.length);
        return args;
    }

    @Test
    void ropeFactorReachesTheModelInEvalAndGrad() throws Exception {
        CliHarness plain = CliHarness.run(with("eval", "--json"));
        CliHarness scaled = CliHarness.run(with("eval", "--json", "--rope-factor", "4"));
        assertEquals(0, plain.code(), plain.toString());
        assertEquals(0, scaled.code(), scaled.toString());
        JsonNode p = new ObjectMapper().readTree(plain.out());
        JsonNode s = new ObjectMapper().readTree(scaled.out());
        assertEquals(4.0, s.get("ropeFactor").asDouble());
        assertNotEquals(p.get("loss").asDouble(), s.get("loss").asDouble(), "a PI factor changes the positions");

        Path out = dir.resolve("g.safetensors");
        CliHarness g = CliHarness.run(with("grad", "--attn", "full", "--rope-factor", "4", "--out", out.toString()));
        assertEquals(0, g.code(), g.toString());
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals("4.0", r.metadata().get("rope_factor"));
            assertEquals("32", r.metadata().get("seq_len"));
        }
    }

    @Test
    void badWindowOptionsFailTheSameWayInBothCommands() {
        for (String command : new String[] {"eval", "grad"}) {
            String[] extra = command.equals("grad")
                    ? new String[] {"--out", dir.resolve("x").toString()}
                    : new String[0];
            CliHarness both = CliHarness.run(
                    with(command, concat(extra, "--attn", "s2", "--groups", "4", "--group-ratio", "0.25")));
            assertNotEquals(0, both.code(), command);
            assertTrue(both.err().contains("either --group-ratio or --groups"), command + ": " + both.err());

            CliHarness rope = CliHarness.run(with(command, concat(extra, "--attn", "full", "--rope-factor", "0")));
            assertNotEquals(0, rope.code(), command);
            assertTrue(rope.err().contains("rope factor 0.0"), command + ": " + rope.err());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

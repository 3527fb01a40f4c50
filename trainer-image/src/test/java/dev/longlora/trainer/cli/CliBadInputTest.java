package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenFileWriter;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input ends with the contract's exit code and one clear message, and no stack trace unless --debug. */
class CliBadInputTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path tokens;

    @BeforeAll
    static void setUp() {
        model = dir.resolve("model");
        assertEquals(
                0,
                CliHarness.run("init-model", "--preset", "builtin:tiny", "--out", model.toString())
                        .code());
        tokens = dir.resolve("tokens.bin");
        int[] ids = new int[300];
        for (int i = 0; i < ids.length; i++) ids[i] = i % 250;
        TokenFileWriter.write(tokens, ids, TokenDtype.UINT16);
    }

    private static void assertFails(int code, String message, String... args) {
        CliHarness r = CliHarness.run(args);
        assertEquals(code, r.code(), r.toString());
        assertTrue(r.err().contains(message), "stderr should contain '" + message + "':\n" + r);
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug:\n" + r);
        assertTrue(r.err().lines().filter(l -> l.startsWith("error: ")).count() == 1, r.toString());
    }

    private static String[] eval(Path modelDir, String... extra) {
        String[] base = {
            "eval", "--model", modelDir.toString(), "--tokens", tokens.toString(), "--seq-len", "64", "--threads", "1"
        };
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    private static Path copyModel(String name) throws Exception {
        Path copy = dir.resolve(name);
        Files.createDirectories(copy);
        for (String f : new String[] {"config.json", "model.safetensors"})
            Files.copy(model.resolve(f), copy.resolve(f));
        return copy;
    }

    @Test
    void missingFilesAreModelOrDataErrors() {
        assertFails(3, "model directory not found", eval(dir.resolve("nope")));
        assertFails(
                3,
                "token file not found",
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                dir.resolve("none.bin").toString(),
                "--seq-len",
                "64");
        assertFails(
                3,
                "PEFT adapter directory holds",
                eval(model, "--adapter", dir.resolve("no-adapter").toString()));
    }

    @Test
    void shapesThatDisagreeWithTheConfigNameTheTensor() throws Exception {
        Path m = copyModel("wrong-shape");
        Files.writeString(
                m.resolve("config.json"),
                Files.readString(m.resolve("config.json"))
                        .replace("\"intermediate_size\" : 128", "\"intermediate_size\" : 96"));
        assertFails(
                3,
                "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64] but the model config needs [96, 64]",
                eval(m));
    }

    @Test
    void unsupportedRopeScalingIsRejected() throws Exception {
        Path m = copyModel("llama3-rope");
        Files.writeString(
                m.resolve("config.json"),
                Files.readString(m.resolve("config.json"))
                        .replace(
                                "\"rope_scaling\" : null",
                                "\"rope_scaling\" : {\"rope_type\": \"llama3\", \"factor\": 8.0}"));
        assertFails(3, "rope_scaling type 'llama3' is not supported", eval(m));
    }

    @Test
    void nonFiniteWeightsAreCaught() throws Exception {
        Path m = copyModel("nan");
        Map<String, TensorData> all = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(model.resolve("model.safetensors"))) {
            for (String n : r.names()) all.put(n, r.read(n));
        }
        all.get("model.layers.1.self_attn.k_proj.weight").values()[5] = Float.NaN;
        SafetensorsWriter.write(m.resolve("model.safetensors"), all, Map.of());
        assertFails(3, "tensor 'model.layers.1.self_attn.k_proj.weight' holds a non-finite value", eval(m));
    }

    @Test
    void impossibleGroupSplitIsAnArgumentError() {
        assertFails(
                2,
                "does not split into 4 groups",
                "grad",
                "--model",
                model.toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "30",
                "--attn",
                "s2",
                "--groups",
                "4",
                "--out",
                dir.resolve("g.safetensors").toString());
        assertFails(2, "is not 1/N", eval(model, "--attn", "s2", "--group-ratio", "0.3"));
        assertFails(
                2,
                "either --group-ratio or --groups",
                eval(model, "--attn", "s2", "--group-ratio", "0.25", "--groups", "4"));
    }

    @Test
    void badArgumentsAndConfigsAreExitTwo() throws Exception {
        assertFails(2, "Missing required option", "eval", "--model", model.toString());
        assertFails(2, "Unknown option: '--bogus'", eval(model, "--bogus"));
        Path job = dir.resolve("bad-job.json");
        Files.writeString(
                job,
                "{\"model\": {\"path\": \"builtin:tiny\"}, \"data\": {\"path\": \"builtin:synthetic\"},"
                        + " \"training\": {\"learningRate\": \"fast\"}}");
        assertFails(2, "field 'training.learningRate' has the wrong type", "train", "--config", job.toString());
        assertFails(
                2,
                "config file not found",
                "train",
                "--config",
                dir.resolve("absent.json").toString());
        assertFails(
                2,
                "RESUME_FROM='sometime'",
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                "builtin:synthetic",
                "--resume-from",
                "sometime");
    }

    @Test
    void dataThatDoesNotFitTheModelIsExitThree() {
        Path big = dir.resolve("big-ids.bin");
        TokenFileWriter.write(big, new int[] {1, 2, 3, 30000, 4, 5, 6, 7, 8, 9, 10, 11}, TokenDtype.UINT16);
        assertFails(
                3,
                "token id 30000 at position 3",
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                big.toString(),
                "--seq-len",
                "4",
                "--stride",
                "4");
        assertFails(
                3,
                "needs more than 512",
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "512");
    }

    @Test
    void debugShowsTheStackTrace() {
        CliHarness r = CliHarness.run(
                "--debug",
                "eval",
                "--model",
                dir.resolve("nope").toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "64");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("\tat dev.longlora"), r.toString());
        CliHarness sub = CliHarness.run(
                "eval",
                "--debug",
                "--model",
                dir.resolve("nope").toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "64");
        assertTrue(sub.err().contains("\tat dev.longlora"), sub.toString());
    }

    @Test
    void anAdapterForAnotherModelIsRejected() throws Exception {
        Path other = dir.resolve("other-model");
        Path cfg = dir.resolve("other-config.json");
        Files.writeString(
                cfg,
                "{\"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 2, "
                        + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 258}");
        assertEquals(
                0,
                CliHarness.run("init-model", "--config-json", cfg.toString(), "--out", other.toString())
                        .code());
        Path adapter = dir.resolve("other-adapter");
        assertEquals(
                0,
                CliHarness.run("init-adapter", "--model", other.toString(), "--out", adapter.toString())
                        .code());
        assertFails(3, "is this adapter for another base model?", eval(model, "--adapter", adapter.toString()));
    }
}

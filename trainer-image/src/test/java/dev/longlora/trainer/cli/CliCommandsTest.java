package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenFileWriter;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval, grad, init-model and init-adapter, run in-process on a tiny random model written to a temp dir. */
class CliCommandsTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path tokens;
    static int[] ids;

    @BeforeAll
    static void tinyModelAndTokens() {
        model = dir.resolve("model");
        CliHarness r = CliHarness.run(
                "init-model",
                "--preset",
                "builtin:tiny",
                "--rope-factor",
                "2",
                "--seed",
                "3",
                "--out",
                model.toString());
        assertEquals(0, r.code(), r.toString());
        ids = new int[700];
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(258);
        tokens = dir.resolve("tokens.bin");
        TokenFileWriter.write(tokens, ids, TokenDtype.UINT16);
    }

    private static LlamaModel load(LoraConfig lora) {
        LlamaModel m = new LlamaModel(ModelDirectory.readConfig(model), lora, new CpuBackend(1), 0);
        ModelDirectory.loadWeights(model, m.parameters());
        return m;
    }

    @Test
    void evalFollowsLongLorasWindowsAndMatchesTheModel() throws Exception {
        CliHarness r = CliHarness.run(
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "64",
                "--stride",
                "128",
                "--json",
                "--threads",
                "1");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = new ObjectMapper().readTree(r.out());
        // Python: len(range(0, 700 - 64, 128)) == 5
        assertEquals(5, j.get("windows").asInt());
        assertEquals(2.0, j.get("ropeFactor").asDouble(), "PI factor from the model's rope_scaling");
        double sum = 0;
        try (LlamaModel m = load(LoraConfig.frozen())) {
            for (int s = 0; s < 700 - 64; s += 128) {
                int[] w = java.util.Arrays.copyOfRange(ids, s, s + 64);
                sum += m.loss(w, w, AttentionSpec.full());
            }
        }
        assertEquals(sum / 5, j.get("loss").asDouble(), 1e-9);
        assertEquals(Math.exp(sum / 5), j.get("ppl").asDouble(), 1e-6);
        assertTrue(Math.abs(j.get("loss").asDouble() - Math.log(258)) < 0.5, "a random model is near uniform");

        CliHarness text = CliHarness.run(
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "64",
                "--rope-factor",
                "1",
                "--attn",
                "s2",
                "--groups",
                "4",
                "--threads",
                "1");
        assertEquals(0, text.code(), text.toString());
        assertTrue(text.out().startsWith("loss ") && text.out().contains("windows 3"), text.out());
    }

    @Test
    void gradWritesLossAndEveryTrainableGradientUnderHfAndPeftNames() throws Exception {
        Path adapter = dir.resolve("adapter-noisy");
        CliHarness a = CliHarness.run(
                "init-adapter",
                "--model",
                model.toString(),
                "--out",
                adapter.toString(),
                "--noise",
                "0.05",
                "--seed",
                "9");
        assertEquals(0, a.code(), a.toString());
        Path out = dir.resolve("grads.safetensors");
        CliHarness r = CliHarness.run(
                "grad",
                "--model",
                model.toString(),
                "--adapter",
                adapter.toString(),
                "--tokens",
                tokens.toString(),
                "--seq-len",
                "64",
                "--attn",
                "s2",
                "--group-ratio",
                "0.25",
                "--out",
                out.toString(),
                "--threads",
                "1");
        assertEquals(0, r.code(), r.toString());
        try (SafetensorsReader g = SafetensorsReader.open(out)) {
            double loss = Double.parseDouble(g.metadata().get("loss"));
            assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "loss %.8f", loss)), r.out());
            assertTrue(g.names().contains("model.embed_tokens.weight"));
            assertTrue(g.names().contains("model.norm.weight"));
            assertTrue(g.names().contains("model.layers.1.post_attention_layernorm.weight"));
            String loraA = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
            assertTrue(g.names().contains(loraA), g.names().toString());
            assertFalse(
                    g.names().contains("model.layers.0.self_attn.q_proj.weight"), "frozen weights have no gradient");
            // 2 layers x 4 targets x (A, B) + embedding + 2 x 2 layer norms + final norm
            assertEquals(16 + 1 + 4 + 1, g.names().size());
            float[] ga = g.read(loraA).values();
            assertTrue(norm(ga) > 0, "LoRA B is nonzero, so A receives gradient");

            // The same pass done directly on the model gives the same numbers.
            try (LlamaModel m = load(PeftAdapter.readLoraConfig(adapter))) {
                PeftAdapter.load(adapter, m.parameters());
                int[] w = java.util.Arrays.copyOf(ids, 64);
                m.zeroGrads();
                assertEquals(m.forwardBackward(w, w, AttentionSpec.s2(4)), loss, 0.0);
                assertEquals(
                        new TensorData(g.entry(loraA).intShape(), ga),
                        new TensorData(
                                g.entry(loraA).intShape(),
                                m.parameters().grads("model.layers.0.self_attn.q_proj.lora_A.weight")));
            }
        }
    }

    @Test
    void adapterRoundTripsThroughPeftLayout() throws Exception {
        Path adapter = dir.resolve("adapter-rt");
        assertEquals(
                0,
                CliHarness.run(
                                "init-adapter",
                                "--model",
                                model.toString(),
                                "--out",
                                adapter.toString(),
                                "--noise",
                                "0.1",
                                "--rank",
                                "4",
                                "--alpha",
                                "8",
                                "--no-norms")
                        .code());
        JsonNode cfg = new ObjectMapper()
                .readTree(adapter.resolve("adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals("none", cfg.get("bias").asText());
        assertEquals("[\"embed_tokens\"]", cfg.get("modules_to_save").toString());
        try (SafetensorsReader r = SafetensorsReader.open(adapter.resolve("adapter_model.safetensors"))) {
            assertTrue(r.names().contains("base_model.model.model.embed_tokens.weight"));
            assertFalse(
                    r.names().stream().anyMatch(n -> n.contains("norm")),
                    r.names().toString());
            assertEquals(8 * 2 + 1, r.names().size());
            assertTrue(norm(r.read("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")
                            .values())
                    > 0);
        }
        LoraConfig lora = PeftAdapter.readLoraConfig(adapter);
        assertEquals(new LoraConfig(4, 8, 0, LoraConfig.ATTENTION_MODULES, true, false, false), lora);
        try (LlamaModel m = load(lora)) {
            PeftAdapter.load(adapter, m.parameters());
            Path again = dir.resolve("adapter-rt2");
            PeftAdapter.write(again, m.parameters(), lora, "x");
            assertTrue(
                    Files.mismatch(
                                    adapter.resolve("adapter_model.safetensors"),
                                    again.resolve("adapter_model.safetensors"))
                            < 0,
                    "write(load(adapter)) is byte-identical");
        }
    }

    @Test
    void everyCommandIsRegistered() {
        CliHarness help = CliHarness.run("--help");
        assertEquals(0, help.code(), help.toString());
        for (String c : new String[] {"demo", "train", "eval", "grad", "init-model", "init-adapter"}) {
            assertTrue(help.out().contains("  " + c + " "), c + " missing from:\n" + help.out());
            assertEquals(0, CliHarness.run(c, "--help").code(), c);
        }
        CliHarness none = CliHarness.run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("missing command"), none.toString());
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += x * x;
        return Math.sqrt(s);
    }
}

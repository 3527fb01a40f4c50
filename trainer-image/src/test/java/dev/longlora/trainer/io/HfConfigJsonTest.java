package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.model.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigJsonTest {

    @TempDir
    Path dir;

    @Test
    void readsALlama2StyleConfig() throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                 "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
                 "num_key_value_heads": 32, "vocab_size": 32000, "rms_norm_eps": 1e-05, "max_position_embeddings": 4096,
                 "rope_scaling": {"type": "linear", "factor": 8.0}, "tie_word_embeddings": false,
                 "bos_token_id": 1, "torch_dtype": "float16"}""");
        LlamaConfig c = HfConfigJson.read(f);
        assertEquals(new LlamaConfig(32000, 4096, 11008, 32, 32, 32, 1e-5, 10000.0, 4096, 8.0, false), c);
    }

    /** transformers 5 saves one rope_parameters object and no top-level rope_theta or rope_scaling. */
    @Test
    void readsAConfigSavedByTransformers5() throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                 "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "vocab_size": 32000, "rms_norm_eps": 1e-05, "max_position_embeddings": 4096,
                 "rope_parameters": {"rope_type": "linear", "factor": 8.0, "rope_theta": 500000.0},
                 "tie_word_embeddings": false, "dtype": "bfloat16", "transformers_version": "5.23.0"}""");
        assertEquals(
                new LlamaConfig(32000, 4096, 11008, 32, 32, 8, 1e-5, 500000.0, 4096, 8.0, false), HfConfigJson.read(f));
        Files.writeString(f, """
                {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "vocab_size": 258, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}""");
        assertEquals(1.0, HfConfigJson.read(f).ropeScalingFactor(), "rope_type default: no scaling");
        assertRejected(
                "\"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4.0}",
                "rope_scaling type 'yarn' is not supported");
        assertRejected(
                "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"}}",
                "rope_parameters has no rope_type");
    }

    /** What either transformers reads: 4.x rope_scaling + rope_theta, 5.x rope_parameters, saying the same. */
    @Test
    void writesTheScalingForTransformers4And5() throws IOException {
        Path f = dir.resolve("config.json");
        HfConfigJson.write(f, new LlamaConfig(258, 64, 128, 2, 4, 2, 1e-6, 500000.0, 1024, 4.0, false));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(f.toFile());
        assertEquals("linear", json.at("/rope_scaling/type").asText());
        assertEquals(4.0, json.at("/rope_scaling/factor").asDouble());
        assertEquals(500000.0, json.get("rope_theta").asDouble());
        assertEquals("linear", json.at("/rope_parameters/rope_type").asText());
        assertEquals(4.0, json.at("/rope_parameters/factor").asDouble());
        assertEquals(500000.0, json.at("/rope_parameters/rope_theta").asDouble());
        assertEquals(1024, json.get("max_position_embeddings").asInt());
    }

    @Test
    void roundTripsThroughJson() {
        LlamaConfig c = new LlamaConfig(258, 64, 128, 2, 4, 2, 1e-6, 500000.0, 128, 4.0, true);
        Path f = dir.resolve("config.json");
        HfConfigJson.write(f, c);
        assertEquals(c, HfConfigJson.read(f));
        LlamaConfig noScaling = c.withRopeScalingFactor(1.0);
        HfConfigJson.write(f, noScaling);
        assertEquals(noScaling, HfConfigJson.read(f));
    }

    @Test
    void rejectsWhatItCannotRunNamingFileAndField() throws IOException {
        assertRejected(
                "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}",
                "rope_scaling type 'llama3' is not supported");
        assertRejected("\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}", "rope_scaling type 'dynamic'");
        assertRejected("\"rope_scaling\": {\"type\": \"linear\"}", "rope_scaling.factor");
        assertRejected("\"num_key_value_heads\": 3", "num_key_value_heads=3");
        assertRejected("\"model_type\": \"gpt2\"", "model_type 'gpt2'");
        assertRejected("\"hidden_size\": \"big\"", "field 'hidden_size' must be an integer");
        Path f = dir.resolve("missing.json");
        Files.writeString(f, "{\"hidden_size\": 8}");
        assertTrue(assertThrows(FormatException.class, () -> HfConfigJson.read(f))
                .getMessage()
                .contains("field 'num_attention_heads' is missing"));
    }

    private void assertRejected(String extra, String expected) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(
                f,
                "{\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, "
                        + "\"num_attention_heads\": 4, \"vocab_size\": 258, " + extra + "}");
        FormatException e = assertThrows(FormatException.class, () -> HfConfigJson.read(f));
        assertTrue(
                e.getMessage().contains(expected) && e.getMessage().contains("config.json"),
                "'" + e.getMessage() + "' should contain '" + expected + "'");
    }
}

package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.reference.ReferencePython;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base-model configs saved by transformers 5 itself ({@code LlamaConfig.save_pretrained} in the reference venv, not
 * hand-written JSON) are read by our config reader with the RoPE scaling and theta transformers wrote. Needs
 * {@code LONGLORA_PEFT_PYTHON} (tools/setup.d/20-torch-reference.sh); required under CI=true.
 */
class Transformers5SavedConfigTest {
    @TempDir
    Path dir;

    @Test
    void configsSavedByTransformers5AreReadWithTheirRopeParameters() throws Exception {
        String python = ReferencePython.require("LONGLORA_PEFT_PYTHON");
        JsonNode r = new ObjectMapper()
                .readTree(
                        ReferencePython.runResource(python, "/transformers/save_llama_config.py", dir, dir.toString()));
        assertTrue(r.get("transformers").asText().startsWith("5."), "reference is transformers 5: " + r);

        // What transformers 5 writes: one rope_parameters object, no top-level rope_scaling / rope_theta.
        JsonNode linearJson = r.get("saved").get("linear");
        assertEquals("linear", linearJson.at("/rope_parameters/rope_type").asText(), linearJson.toString());
        assertFalse(linearJson.hasNonNull("rope_scaling"), "transformers 5 no longer writes rope_scaling");
        LlamaConfig linear = HfConfigJson.read(dir.resolve("linear/config.json"));
        assertEquals(new LlamaConfig(258, 64, 128, 2, 4, 2, 1e-5, 500000.0, 4096, 4.0, false), linear);

        LlamaConfig plain = HfConfigJson.read(dir.resolve("default/config.json"));
        assertEquals(
                r.get("saved").get("default").at("/rope_parameters/rope_theta").asDouble(),
                plain.ropeTheta(),
                "theta transformers wrote as its default");
        assertEquals(1.0, plain.ropeScalingFactor(), "rope_type default: no position interpolation");
        assertEquals(2048, plain.maxPositionEmbeddings());
    }
}

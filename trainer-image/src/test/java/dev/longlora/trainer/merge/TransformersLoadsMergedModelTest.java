package dev.longlora.trainer.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.TinyModels;
import dev.longlora.trainer.reference.ReferencePython;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HF transformers 5 (no PEFT) loads our merged, sharded directory through AutoConfig and AutoModelForCausalLM: it
 * reads linear RoPE scaling with the merged factor and max_position_embeddings = the target context, and computes
 * the logits of base + adapter as we do. Needs the reference venv ({@code LONGLORA_PEFT_PYTHON},
 * tools/setup.d/20-torch-reference.sh); required under CI=true.
 */
class TransformersLoadsMergedModelTest {
    @TempDir
    Path dir;

    @Test
    void transformersLoadsTheMergedDirectoryAndItsLogitsMatchOurs() throws Exception {
        String python = ReferencePython.require("LONGLORA_PEFT_PYTHON");
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        LlamaConfig config = TinyModels.gqaConfig(1.0);
        ModelMergerTest.writeBaseAndAdapter(base, adapter, config, TinyModels.loraEverywhere(0), 21);
        // Target context 128 over the base's 64 positions: linear PI factor 2, max_position_embeddings 128.
        ModelMerger.merge(new MergeOptions(base, adapter, out, 8192, SafetensorsDtype.F32, 128, null, false), s -> {});

        int[] tokens = TinyModels.tokens(100, config.vocabSize(), 4);
        int[] positions = {0, 50, 99};
        float[][] ours;
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = ModelMergerTest.load(base, adapter, backend)) {
            m.setRopeScalingFactor(2.0); // the merged config's factor: ceil(128 / 64)
            ours = m.logitsAt(tokens, AttentionSpec.full(), positions);
        }

        JsonNode r = new ObjectMapper()
                .readTree(ReferencePython.runResource(
                        python,
                        "/merge/merged_logits.py",
                        dir,
                        out.toString(),
                        Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                        Arrays.stream(positions).mapToObj(Integer::toString).collect(Collectors.joining(","))));
        assertEquals("LlamaConfig", r.get("config_class").asText(), "AutoConfig's class for our config.json");
        assertEquals("LlamaForCausalLM", r.get("model_class").asText());
        JsonNode rope = r.get("rope_parameters");
        assertEquals("linear", rope.get("rope_type").asText(), "rope_parameters as transformers read them: " + rope);
        assertEquals(2.0, rope.get("factor").asDouble(), "rope_parameters: " + rope);
        assertEquals(config.ropeTheta(), rope.get("rope_theta").asDouble(), "rope_parameters: " + rope);
        assertEquals(128, r.get("max_position_embeddings").asInt(), "the target context");
        for (int i = 0; i < positions.length; i++) {
            JsonNode row = r.get("logits").get(i);
            float[] theirs = new float[row.size()];
            for (int j = 0; j < theirs.length; j++) theirs[j] = row.get(j).floatValue();
            ModelMergerTest.assertRelativeClose(theirs, ours[i], 1e-5);
        }
    }
}

package dev.longlora.trainer.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HF transformers (no PEFT) loads our merged, sharded directory and computes the logits of base + adapter as we do,
 * with the merged config's PI factor. Needs {@code LONGLORA_PEFT_PYTHON} (tools/setup.d/30-peft-reference.sh);
 * required under CI=true.
 */
class TransformersLoadsMergedModelTest {
    @TempDir
    Path dir;

    @Test
    void transformersLoadsTheMergedDirectoryAndItsLogitsMatchOurs() throws Exception {
        String python = System.getenv("LONGLORA_PEFT_PYTHON");
        boolean available = python != null && Files.isExecutable(Path.of(python));
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(
                    available,
                    "CI=true: LONGLORA_PEFT_PYTHON must point at the transformers venv (tools/setup.d/30-peft-reference.sh)");
        }
        assumeTrue(
                available,
                "LONGLORA_PEFT_PYTHON is not set: transformers is not installed (tools/setup.d/30-peft-reference.sh)");
        Path base = dir.resolve("base"), adapter = dir.resolve("adapter"), out = dir.resolve("merged");
        LlamaConfig config = TinyModels.gqaConfig(1.0);
        ModelMergerTest.writeBaseAndAdapter(base, adapter, config, TinyModels.loraEverywhere(0), 21);
        ModelMerger.merge(new MergeOptions(base, adapter, out, 8192, SafetensorsDtype.F32, 128, null, false), s -> {});

        int[] tokens = TinyModels.tokens(100, config.vocabSize(), 4);
        int[] positions = {0, 50, 99};
        float[][] ours;
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = ModelMergerTest.load(base, adapter, backend)) {
            m.setRopeScalingFactor(2.0); // the merged config's factor: ceil(128 / 64)
            ours = m.logitsAt(tokens, AttentionSpec.full(), positions);
        }

        Path script = dir.resolve("merged_logits.py");
        try (var in = getClass().getResourceAsStream("/merge/merged_logits.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(
                        python,
                        script.toString(),
                        out.toString(),
                        Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                        Arrays.stream(positions).mapToObj(Integer::toString).collect(Collectors.joining(",")))
                .start();
        byte[] stdout = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        JsonNode r = new ObjectMapper()
                .readTree(new String(stdout, StandardCharsets.UTF_8)
                        .lines()
                        .reduce((a, b) -> b)
                        .orElse(""));
        assertEquals(2.0, r.get("rope_scaling").get("factor").asDouble());
        assertEquals(128, r.get("max_position_embeddings").asInt());
        for (int i = 0; i < positions.length; i++) {
            JsonNode row = r.get("logits").get(i);
            float[] theirs = new float[row.size()];
            for (int j = 0; j < theirs.length; j++) theirs[j] = row.get(j).floatValue();
            ModelMergerTest.assertRelativeClose(theirs, ours[i], 1e-5);
        }
    }
}

package dev.longlora.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.parameter.Parameter;
import dev.longlora.trainer.reference.ReferencePython;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loss and every trainable gradient of random tiny models against an independent PyTorch implementation
 * (src/test/python/reference.py, computed in float64): relative error (L2 over each tensor) <= 1e-4.
 *
 * <p>Needs the reference venv's torch (tools/setup.d/20-torch-reference.sh builds it and exports
 * LONGLORA_TORCH_PYTHON). Without it the test fails under CI=true and is skipped, with the reason, elsewhere.
 */
class PyTorchReferenceTest {
    private static final double MAX_RELATIVE_ERROR = 1e-4;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void s2AttentionGqaPiAndLoraOnAttention() throws Exception {
        compare("s2", TinyModels.gqaConfig(4.0), LoraConfig.longLora().withRank(4, 8), AttentionSpec.s2(4), 32);
    }

    @Test
    void fullAttentionGqaPiAndLoraEverywhere() throws Exception {
        compare("full", TinyModels.gqaConfig(2.0), TinyModels.loraEverywhere(0.0), AttentionSpec.full(), 24);
    }

    @Test
    void shortAttentionFullFineTuneWithTiedEmbeddings() throws Exception {
        LlamaConfig c = TinyModels.gqaConfig(1.0);
        LlamaConfig tied = new LlamaConfig(
                c.vocabSize(),
                c.hiddenSize(),
                c.intermediateSize(),
                c.numLayers(),
                c.numHeads(),
                1,
                c.rmsNormEps(),
                500.0,
                c.maxPositionEmbeddings(),
                3.0,
                true);
        compare("short", tied, LoraConfig.fullFineTuning(), AttentionSpec.shortNoShift(4), 32);
    }

    private void compare(String pattern, LlamaConfig config, LoraConfig lora, AttentionSpec spec, int len)
            throws Exception {
        String python = torchPython();
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(config, lora, be, 11)) {
            TinyModels.randomize(model, 12);
            int[] tokens = TinyModels.tokens(len, config.vocabSize(), 13);
            int[] labels = tokens.clone();
            labels[2] = LlamaModel.IGNORE_INDEX;
            labels[len / 2] = LlamaModel.IGNORE_INDEX;
            model.zeroGrads();
            double loss = model.forwardBackward(tokens, labels, spec);

            ObjectNode manifest = JSON.createObjectNode();
            ObjectNode cfg = manifest.putObject("config");
            cfg.put("vocab_size", config.vocabSize())
                    .put("hidden_size", config.hiddenSize())
                    .put("num_hidden_layers", config.numLayers())
                    .put("num_attention_heads", config.numHeads())
                    .put("num_key_value_heads", config.numKvHeads())
                    .put("rms_norm_eps", config.rmsNormEps())
                    .put("rope_theta", config.ropeTheta())
                    .put("rope_factor", config.ropeScalingFactor())
                    .put("tie_word_embeddings", config.tieWordEmbeddings());
            manifest.putObject("lora").put("rank", lora.rank()).put("alpha", lora.alpha());
            manifest.putObject("attention").put("pattern", pattern).put("group_size", spec.groupSize(len));
            ArrayNode tok = manifest.putArray("tokens");
            ArrayNode lab = manifest.putArray("labels");
            for (int i = 0; i < len; i++) {
                tok.add(tokens[i]);
                lab.add(labels[i]);
            }
            ArrayNode ps = manifest.putArray("params");
            for (Parameter p : model.parameters().all()) {
                String file = "param/" + p.name() + ".f32";
                writeFloats(dir.resolve(file), model.parameters().values(p.name()));
                ObjectNode entry =
                        ps.addObject().put("name", p.name()).put("file", file).put("trainable", p.trainable());
                ArrayNode shape = entry.putArray("shape");
                for (int s : p.shape()) {
                    shape.add(s);
                }
            }
            Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(manifest));

            runReference(python);
            JsonNode ref = JSON.readTree(dir.resolve("reference.json").toFile());
            double refLoss = ref.get("loss").asDouble();
            assertEquals(refLoss, loss, MAX_RELATIVE_ERROR * Math.abs(refLoss), "loss");
            List<Parameter> trainable = model.parameters().trainable();
            assertEquals(trainable.size(), ref.get("grads").size(), "number of trainable parameters");
            for (Parameter p : trainable) {
                float[] want =
                        readFloats(dir.resolve(ref.get("grads").get(p.name()).asText()));
                float[] got = model.parameters().grads(p.name());
                double err = 0;
                double norm = 0;
                for (int i = 0; i < want.length; i++) {
                    err += Math.pow(got[i] - (double) want[i], 2);
                    norm += Math.pow(want[i], 2);
                }
                assertTrue(norm > 0, p.name() + ": reference gradient is zero, the case checks nothing");
                double rel = Math.sqrt(err / norm);
                assertTrue(
                        rel <= MAX_RELATIVE_ERROR, p.name() + ": relative error " + rel + " > " + MAX_RELATIVE_ERROR);
            }
        }
    }

    /** The venv interpreter, checked to import torch, or a failure (CI) / skip (elsewhere) saying how to get it. */
    static String torchPython() throws Exception {
        String python = ReferencePython.require("LONGLORA_TORCH_PYTHON");
        Process p = new ProcessBuilder(python, "-c", "import torch")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            String fix = python + " cannot import torch: " + out.strip()
                    + " (source tools/setup.d/20-torch-reference.sh, which rebuilds the venv)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("the PyTorch reference is required in CI: " + fix);
            }
            Assumptions.abort("PyTorch reference unavailable on this machine: " + fix);
        }
        return python;
    }

    private void runReference(String python) throws IOException, InterruptedException {
        Path script = Path.of("src/test/python/reference.py").toAbsolutePath();
        if (!Files.exists(script)) {
            script = Path.of(System.getProperty("basedir", "."), "src/test/python/reference.py");
        }
        Process p = new ProcessBuilder(python, script.toString(), dir.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("reference.py failed: " + out);
        }
    }

    private static void writeFloats(Path path, float[] data) throws IOException {
        Files.createDirectories(path.getParent());
        ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        Files.write(path, buf.array());
    }

    private static float[] readFloats(Path path) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[buf.remaining() / 4];
        buf.asFloatBuffer().get(out);
        return out;
    }
}

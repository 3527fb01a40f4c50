package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.reference.ReferencePython;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our model directory and PEFT adapter, loaded by HF transformers + {@code PeftModel.from_pretrained}: every adapter
 * tensor (LoRA and the modules_to_save embedding and norms) must land in the right module, and the loss must match
 * ours. Needs the reference venv (transformers 5 + PEFT) that tools/setup.d/20-torch-reference.sh builds
 * ({@code LONGLORA_PEFT_PYTHON}); required under CI=true.
 */
class PeftCompatibilityTest {

    @TempDir
    Path dir;

    @Test
    void peftLoadsOurAdapterAndComputesOurLoss() throws Exception {
        String python = ReferencePython.require("LONGLORA_PEFT_PYTHON");
        Path model = dir.resolve("model");
        Path adapter = dir.resolve("adapter");
        assertEquals(
                0,
                CliHarness.run(
                                "init-model",
                                "--preset",
                                "builtin:tiny",
                                "--rope-factor",
                                "2",
                                "--seed",
                                "4",
                                "--out",
                                model.toString())
                        .code());
        assertEquals(
                0,
                CliHarness.run(
                                "init-adapter",
                                "--model",
                                model.toString(),
                                "--out",
                                adapter.toString(),
                                "--noise",
                                "0.05",
                                "--seed",
                                "8")
                        .code());
        int[] tokens = new SplittableRandom(3).ints(96, 0, 258).toArray();

        double ours;
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel m = ModelLoader.load(model.toString(), adapter, null, backend, 0)) {
            ours = m.loss(tokens, tokens, AttentionSpec.full());
        }

        Path script = dir.resolve("peft_check.py");
        try (var in = getClass().getResourceAsStream("/peft/peft_check.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(
                        python,
                        script.toString(),
                        model.toString(),
                        adapter.toString(),
                        Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")))
                .redirectErrorStream(false)
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        String json = new String(out, StandardCharsets.UTF_8)
                .lines()
                .reduce((a, b) -> b)
                .orElse("");
        JsonNode r = new ObjectMapper().readTree(json);

        JsonNode params = r.get("params");
        try (SafetensorsReader a = SafetensorsReader.open(adapter.resolve(PeftAdapter.WEIGHTS_FILE))) {
            assertEquals(a.names().size(), params.size(), "PEFT holds exactly our adapter tensors: " + params);
            for (String key : a.names()) {
                String name = key.substring(PeftAdapter.KEY_PREFIX.length());
                JsonNode got = params.get(name);
                assertTrue(got != null, "PEFT has no trainable tensor for " + key + "; it has " + params);
                float[] want = a.read(key).values();
                for (int i = 0; i < got.size(); i++)
                    assertEquals(want[i], got.get(i).floatValue(), 0f, key);
            }
        }
        double theirs = r.get("loss").asDouble();
        assertEquals(theirs, ours, 1e-4 * Math.abs(theirs), "loss of HF transformers + PEFT vs ours");
    }
}

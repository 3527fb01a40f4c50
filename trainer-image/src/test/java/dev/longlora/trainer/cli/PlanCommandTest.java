package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.MemoryPlanner;
import dev.longlora.contract.ModelShape;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.load.BuiltinModels;
import dev.longlora.trainer.model.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code longlora plan}: the table, the JSON object, where the model's shape comes from, and bad input. */
class PlanCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path job(String modelPath, String modelName, int gpus) throws Exception {
        Path file = dir.resolve("job-" + gpus + ".json");
        Files.writeString(
                file, """
                {"model": {"path": "%s"%s}, "data": {"path": "builtin:synthetic"},
                 "context": {"originalLength": 4096, "targetLength": 32768},
                 "distributed": {"nodes": 1, "gpusPerNode": %d, "zeroStage": 2}}""".formatted(modelPath, modelName == null ? "" : ", \"name\": \"" + modelName + "\"", gpus));
        return file;
    }

    @Test
    void jsonGivesTheTotalTheTermsAndTheVerdict() throws Exception {
        Path job = job("/nowhere/llama-2-7b-hf", "meta-llama/Llama-2-7b-hf", 8);
        CliHarness r = CliHarness.run("plan", "--config", job.toString(), "--gpu-memory", "80GiB", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode out = JSON.readTree(r.out());
        long total = 0;
        for (JsonNode bytes : out.get("terms")) total += bytes.asLong();
        assertEquals(total, out.get("perGpuBytes").asLong(), r.out());
        assertTrue(out.get("terms").has("frozenWeights") && out.get("terms").has("lossBuffer"), r.out());
        assertEquals("gpu", out.get("device").asText());
        assertEquals(80L << 30, out.get("gpuMemoryBytes").asLong());
        assertTrue(out.get("fits").asBoolean(), r.out());
        assertTrue(out.get("verdict").asText().startsWith("fits: "), r.out());
        // The same numbers as the contract's planner for the model name's known shape.
        long expected = MemoryPlanner.plan(
                        JobConfigJson.read(job, Map.of()),
                        ModelShape.known("meta-llama/Llama-2-7b-hf").orElseThrow())
                .perGpuBytes();
        assertEquals(expected, out.get("perGpuBytes").asLong());
    }

    @Test
    void theTableNamesEveryTermAndTheModelComesFromItsConfigJson() throws Exception {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        LlamaConfig config = BuiltinModels.config(BuiltinModels.TINY);
        HfConfigJson.write(model.resolve(HfConfigJson.FILE_NAME), config);
        // No weights in the directory: plan reads config.json only.
        CliHarness r = CliHarness.run(
                "plan", "--config", job(model.toString(), null, 0).toString());
        assertEquals(0, r.code(), r.toString());
        for (String term : new String[] {"frozenWeights", "layerInputs", "lossBuffer", "total"}) {
            assertTrue(r.out().contains(term), term + " in\n" + r.out());
        }
        assertTrue(r.out().contains("on the CPU"), r.out());
        CliHarness gpu = CliHarness.run(
                "plan",
                "--config",
                job(model.toString(), null, 0).toString(),
                "--device",
                "gpu",
                "--gpu-memory",
                "1MiB");
        assertEquals(0, gpu.code(), gpu.toString());
        assertTrue(gpu.out().contains("does not fit: ") && gpu.out().contains("cudaContext"), gpu.out());
    }

    @Test
    void badInputNamesTheFix() throws Exception {
        CliHarness unknown = CliHarness.run(
                "plan", "--config", job("/nowhere/model", "my-own-model", 8).toString());
        assertEquals(ExitCode.BAD_CONFIG.code(), unknown.code(), unknown.toString());
        assertTrue(unknown.err().contains("--model-config"), unknown.err());
        CliHarness size =
                CliHarness.run("plan", "--config", job("builtin:tiny", null, 8).toString(), "--gpu-memory", "lots");
        assertEquals(ExitCode.BAD_CONFIG.code(), size.code(), size.toString());
        assertTrue(size.err().contains("--gpu-memory 'lots' is not a memory size"), size.err());
        CliHarness device =
                CliHarness.run("plan", "--config", job("builtin:tiny", null, 8).toString(), "--device", "tpu");
        assertEquals(ExitCode.BAD_CONFIG.code(), device.code(), device.toString());
        assertTrue(device.err().contains("--device 'tpu' is unknown: use gpu or cpu"), device.err());
    }
}

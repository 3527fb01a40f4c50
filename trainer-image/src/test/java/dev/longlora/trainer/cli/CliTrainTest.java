package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code longlora train} end to end on the built-in model and corpus: nothing downloaded, a few CPU seconds. */
class CliTrainTest {

    @TempDir
    Path dir;

    @Test
    void trainsCheckpointsResumesAndWritesAnAdapterThatEvalLoads() throws Exception {
        Path job = dir.resolve("job.json");
        Files.writeString(job, """
                {"apiVersion": "longlora.dev/v1alpha1", "job": {"name": "tiny", "namespace": "test"},
                 "model": {"path": "builtin:tiny", "name": "builtin:tiny"},
                 "data": {"path": "builtin:synthetic"},
                 "context": {"originalLength": 32, "targetLength": 64},
                 "attention": {"pattern": "s2", "groups": 4},
                 "training": {"maxSteps": 100, "learningRate": 1e-3, "warmupSteps": 1, "gradientAccumulationSteps": 1},
                 "distributed": {"nodes": 1, "gpusPerNode": 0},
                 "checkpoint": {"everySteps": 2, "keep": 2},
                 "aFieldFromTheFuture": {"ignored": true}}""");
        Path ckpt = dir.resolve("checkpoints");
        CliHarness r = CliHarness.run(
                "train",
                "--config",
                job.toString(),
                "--max-steps",
                "3",
                "--checkpoint-dir",
                ckpt.toString(),
                "--progress",
                "lines",
                "--threads",
                "1");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("step 3/3 loss "), r.out());
        assertTrue(r.out().contains("checkpoint step 2 -> "), r.out());
        java.util.List<String> phases = r.out()
                .lines()
                .filter(l -> l.startsWith("phase "))
                .map(l -> l.substring("phase ".length()))
                .toList();
        assertEquals("loading", phases.getFirst(), phases.toString());
        assertEquals("done", phases.getLast(), phases.toString());
        assertEquals(
                java.util.List.of("loading", "training", "checkpointing", "training", "checkpointing", "training"),
                phases.subList(0, 6),
                "a checkpoint every 2 steps and at the end (step 3)");
        assertTrue(phases.indexOf("done") > phases.lastIndexOf("training"), phases.toString());
        assertTrue(Files.exists(ckpt.resolve("step-3/COMPLETE")));
        Path adapter = ckpt.resolve("output/adapter");
        assertTrue(Files.exists(adapter.resolve("adapter_config.json")));
        assertTrue(Files.exists(adapter.resolve("adapter_model.safetensors")));

        CliHarness more = CliHarness.run(
                "train",
                "--config",
                job.toString(),
                "--max-steps",
                "4",
                "--checkpoint-dir",
                ckpt.toString(),
                "--progress",
                "lines",
                "--threads",
                "1");
        assertEquals(0, more.code(), more.toString());
        assertTrue(more.err().contains("resumed from") && more.err().contains("step-3"), more.err());
        assertTrue(more.out().contains("steps 4..4"), more.out());

        Path text = dir.resolve("eval.txt");
        Files.writeString(
                text,
                "The code of alice0 is 1234. The grass is green. What is the code of alice0? It is 1234. ".repeat(8));
        CliHarness eval = CliHarness.run(
                "eval",
                "--model",
                "builtin:tiny",
                "--adapter",
                adapter.toString(),
                "--tokens",
                text.toString(),
                "--seq-len",
                "128",
                "--json",
                "--threads",
                "1");
        assertEquals(0, eval.code(), eval.toString());
        assertTrue(eval.out().contains("\"windows\":"), eval.out());
    }

    @Test
    void trainsOnATextFileAndOnAUint32TokenFile() throws Exception {
        Path text = dir.resolve("corpus.txt");
        Files.writeString(
                text, ("Documents are separated by blank lines.\n\nThe pass key is 4711. Remember it.\n\n").repeat(20));
        CliHarness t = CliHarness.run(
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                text.toString(),
                "--data-format",
                "text",
                "--seq-len",
                "64",
                "--max-steps",
                "1",
                "--grad-accum",
                "1",
                "--checkpoint-dir",
                dir.resolve("ct").toString(),
                "--progress",
                "none",
                "--threads",
                "1");
        assertEquals(0, t.code(), t.toString());
        Path bin = dir.resolve("ids32.bin");
        int[] ids = new java.util.SplittableRandom(1).ints(300, 0, 258).toArray();
        dev.longlora.trainer.data.TokenFileWriter.write(bin, ids, dev.longlora.trainer.data.TokenDtype.UINT32);
        CliHarness b = CliHarness.run(
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                bin.toString(),
                "--token-dtype",
                "uint32",
                "--seq-len",
                "64",
                "--max-steps",
                "1",
                "--grad-accum",
                "1",
                "--checkpoint-dir",
                dir.resolve("cb").toString(),
                "--progress",
                "none",
                "--threads",
                "1");
        assertEquals(0, b.code(), b.toString());
    }

    @Test
    void dryRunPrintsTheResolvedConfigWithFlagsApplied() {
        CliHarness r = CliHarness.run(
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                "builtin:synthetic",
                "--seq-len",
                "512",
                "--original-length",
                "128",
                "--set",
                "lora.rank=4",
                "--group-ratio",
                "0.125",
                "--dry-run");
        assertEquals(0, r.code(), r.toString());
        JsonNode doc = readJson(r.out());
        assertEquals(List.of("config", "rank"), iterate(doc.fieldNames()), "one document: config and rank");
        JsonNode config = doc.get("config");
        assertEquals(512, config.at("/context/targetLength").asInt());
        assertEquals(4.0, config.at("/context/ropeFactor").asDouble(), "ceil(512 / 128)");
        assertEquals(8, config.at("/attention/groups").asInt());
        assertEquals(4, config.at("/lora/rank").asInt());
        JsonNode rank = doc.get("rank");
        assertEquals(1, rank.get("worldSize").asInt(), "a local run is one rank");
        assertEquals(0, rank.get("nodeRank").asInt());
        assertEquals("latest", rank.get("resumeFrom").asText());
    }

    @Test
    void anEnvironmentThatDisagreesWithTheConfigIsABadConfig() {
        CliHarness r = CliHarness.runWithEnv(
                Map.of("NNODES", "1", "GPUS_PER_NODE", "4", "WORLD_SIZE", "4"),
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                "builtin:synthetic",
                "--seq-len",
                "64",
                "--dry-run");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("GPUS_PER_NODE=4") && r.err().contains("distributed.gpusPerNode=8"), r.err());
    }

    /**
     * Eight GPU ranks on a node without a usable GPU stack (no NCCL, no driver, no GPU) is the node's fault: exit 12
     * NodeUnfit, which the operator retries away from the node, never a crash or the user's bad config.
     */
    @Test
    void gpuRanksOnANodeWithoutGpusExitNodeUnfit(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                dev.longlora.trainer.backend.cuda.CudaAvailability.unavailableReason()
                        .isPresent(),
                "this machine has a working GPU stack, so there is no unfit node to see");
        CliHarness r = CliHarness.runWithEnv(
                Map.of(
                        "NNODES", "1",
                        "GPUS_PER_NODE", "8",
                        "WORLD_SIZE", "8",
                        "CHECKPOINT_DIR", dir.toString()),
                "train",
                "--backend",
                "cuda",
                "--model",
                "builtin:tiny",
                "--data",
                "builtin:synthetic",
                "--seq-len",
                "64",
                "--max-steps",
                "1");
        assertEquals(12, r.code(), r.toString());
        assertTrue(r.err().contains("NCCL") || r.err().contains("CUDA"), r.err());
    }

    private static JsonNode readJson(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError("not one JSON document: " + text, e);
        }
    }

    private static List<String> iterate(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}

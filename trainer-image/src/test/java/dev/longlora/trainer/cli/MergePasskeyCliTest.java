package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** merge, eval on merged and unmerged models, and passkey through the command line, with their exit codes. */
class MergePasskeyCliTest {
    @TempDir
    Path dir;

    private Path base;
    private Path adapter;

    private void baseAndAdapter() {
        base = dir.resolve("base");
        adapter = dir.resolve("adapter");
        assertEquals(
                0,
                CliHarness.run("init-model", "--preset", "builtin:tiny", "--seed", "4", "--out", base.toString())
                        .code());
        assertEquals(
                0,
                CliHarness.run(
                                "init-adapter",
                                "--model",
                                base.toString(),
                                "--out",
                                adapter.toString(),
                                "--noise",
                                "0.05",
                                "--seed",
                                "8")
                        .code());
    }

    /**
     * An adapter trained 64 -> 256 tokens records that beside its PEFT files, so a merge without --context writes
     * rope_scaling 4 and max_position_embeddings 256 (without the record it kept the base's: garbage at 256).
     */
    @Test
    void mergeTakesTheTrainedContextFromTheAdapterItself() throws Exception {
        baseAndAdapter();
        Path checkpoints = dir.resolve("run");
        CliHarness t = CliHarness.run(
                "train",
                "--model",
                base.toString(),
                "--data",
                "builtin:synthetic",
                "--seq-len",
                "256",
                "--original-length",
                "64",
                "--max-steps",
                "2",
                "--grad-accum",
                "1",
                "--checkpoint-dir",
                checkpoints.toString(),
                "--progress",
                "none");
        assertEquals(0, t.code(), t.toString());
        Path trained = checkpoints.resolve("output/adapter");
        JsonNode record = new ObjectMapper()
                .readTree(trained.resolve("longlora-training.json").toFile());
        assertEquals(256, record.get("targetLength").asInt());
        assertEquals(4.0, record.get("ropeFactor").asDouble());
        assertEquals(2, record.get("steps").asInt());

        Path merged = dir.resolve("merged-from-record");
        CliHarness m = CliHarness.run(
                "merge", "--model", base.toString(), "--adapter", trained.toString(), "--out", merged.toString());
        assertEquals(0, m.code(), m.toString());
        JsonNode config =
                new ObjectMapper().readTree(merged.resolve("config.json").toFile());
        assertEquals(256, config.get("max_position_embeddings").asInt(), config.toString());
        assertEquals(4.0, config.at("/rope_scaling/factor").asDouble(), config.toString());
        assertEquals(
                "linear",
                config.at("/rope_scaling/type")
                        .asText(config.at("/rope_scaling/rope_type").asText()));
    }

    @Test
    void evalOfTheMergedModelEqualsEvalOfBasePlusAdapterAtTheMergedFactor() throws Exception {
        baseAndAdapter();
        Path merged = dir.resolve("merged");
        CliHarness m = CliHarness.run(
                "merge",
                "--model",
                base.toString(),
                "--adapter",
                adapter.toString(),
                "--out",
                merged.toString(),
                "--context",
                "1024",
                "--dtype",
                "f32");
        assertEquals(0, m.code(), m.toString());
        assertTrue(
                m.out().contains("rope_scaling factor 4.0") && m.out().contains("max_position_embeddings 1024"),
                m.out());

        Path text = dir.resolve("t.txt");
        StringBuilder sb = new StringBuilder();
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 3000; i++) sb.append((char) ('a' + rng.nextInt(26))).append(i % 11 == 0 ? " " : "");
        Files.writeString(text, sb.toString());
        CliHarness unmerged = CliHarness.run(
                "eval",
                "--model",
                base.toString(),
                "--adapter",
                adapter.toString(),
                "--tokens",
                text.toString(),
                "--seq-len",
                "512",
                "--rope-factor",
                "4",
                "--json",
                "--threads",
                "1");
        CliHarness folded = CliHarness.run(
                "eval",
                "--model",
                merged.toString(),
                "--tokens",
                text.toString(),
                "--seq-len",
                "512",
                "--json",
                "--threads",
                "1");
        assertEquals(0, unmerged.code(), unmerged.toString());
        assertEquals(0, folded.code(), folded.toString());
        JsonNode a = new ObjectMapper().readTree(unmerged.out());
        JsonNode b = new ObjectMapper().readTree(folded.out());
        assertEquals(4.0, b.get("ropeFactor").asDouble(), "the merged config's PI factor is the default");
        assertTrue(b.get("windows").asInt() > 1);
        assertEquals(
                a.get("loss").asDouble(),
                b.get("loss").asDouble(),
                1e-5 * a.get("loss").asDouble());
        assertTrue(b.get("seconds").asDouble() > 0);

        CliHarness logged = CliHarness.run(
                "eval",
                "--model",
                merged.toString(),
                "--tokens",
                text.toString(),
                "--seq-len",
                "64",
                "--stride",
                "64",
                "--threads",
                "1");
        assertEquals(0, logged.code(), logged.toString());
        long windows = Long.parseLong(logged.out().replaceAll("(?s).*windows (\\d+).*", "$1"));
        assertTrue(windows >= 20, logged.out());
        assertTrue(
                logged.err().contains("eval " + windows + "/" + windows + " windows"),
                "progress lines on stderr: " + logged.err());
    }

    @Test
    void mergeFailuresExitWithTheContractsCodesAndNameTheProblem() throws Exception {
        baseAndAdapter();
        Path merged = dir.resolve("merged");
        Files.createDirectories(merged);
        CliHarness exists = CliHarness.run(
                "merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(2, exists.code(), exists.toString());
        assertTrue(exists.err().contains("already exists"), exists.err());

        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(
                other.resolve("config.json"),
                Files.readString(base.resolve("config.json")).replace("\"hidden_size\" : 64", "\"hidden_size\" : 32"));
        Files.copy(base.resolve("model.safetensors"), other.resolve("model.safetensors"));
        CliHarness foreign = CliHarness.run(
                "merge",
                "--model",
                other.toString(),
                "--adapter",
                adapter.toString(),
                "--out",
                dir.resolve("x").toString());
        assertEquals(3, foreign.code(), foreign.toString());
        assertTrue(
                foreign.err().contains("adapter_model.safetensors")
                        && foreign.err().contains("base_model.model."),
                foreign.err());
        assertFalse(Files.exists(dir.resolve("x")));

        CliHarness noAdapter = CliHarness.run(
                "merge",
                "--model",
                base.toString(),
                "--adapter",
                dir.resolve("none").toString(),
                "--out",
                dir.resolve("y").toString());
        assertEquals(3, noAdapter.code(), noAdapter.toString());
        assertTrue(noAdapter.err().contains("adapter_config.json"), noAdapter.err());
    }

    @Test
    void passkeyPrintsAccuracyPerLengthAndIsReproducible() throws Exception {
        CliHarness table = CliHarness.run(
                "passkey", "--model", "builtin:tiny", "--lengths", "300,600", "--trials", "2", "--threads", "1");
        assertEquals(0, table.code(), table.toString());
        assertTrue(table.out().lines().anyMatch(l -> l.trim().startsWith("300 ")), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.trim().startsWith("600 ")), table.out());
        assertEquals(
                4, table.err().lines().filter(l -> l.startsWith("passkey ")).count(), table.err());

        String[] args = {
            "passkey",
            "--model",
            "builtin:tiny",
            "--lengths",
            "300",
            "--trials",
            "3",
            "--seed",
            "5",
            "--json",
            "--threads",
            "1"
        };
        JsonNode one = new ObjectMapper().readTree(CliHarness.run(args).out());
        JsonNode two = new ObjectMapper().readTree(CliHarness.run(args).out());
        assertEquals(one, two, "same seed, same keys, depths and answers");
        assertEquals(3, one.get("trials").size());
        JsonNode l = one.get("lengths").get(0);
        assertEquals(300, l.get("length").asInt());
        assertEquals(3, l.get("trials").asInt());
        for (JsonNode t : one.get("trials")) {
            assertTrue(t.get("promptTokens").asInt() <= 300);
            int key = t.get("key").asInt();
            assertTrue(key >= 1 && key <= 50000);
        }

        CliHarness tooShort = CliHarness.run("passkey", "--model", "builtin:tiny", "--lengths", "50");
        assertEquals(2, tooShort.code(), tooShort.toString());
        assertTrue(tooShort.err().contains("too short"), tooShort.err());
    }

    @Test
    void passkeyUsesTheModelsTokenizerJsonAndMergeCopiesIt() throws Exception {
        Path model = dir.resolve("bpe-model");
        Path configJson = dir.resolve("config.json");
        // A tiny LLaMA over the LLaMA-2-style test tokenizer's vocabulary (1200 ids + 3 specials).
        Files.writeString(
                configJson,
                "{\"model_type\": \"llama\", \"vocab_size\": 1203, \"hidden_size\": 32, "
                        + "\"intermediate_size\": 48, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"max_position_embeddings\": 256}");
        assertEquals(
                0,
                CliHarness.run("init-model", "--config-json", configJson.toString(), "--out", model.toString())
                        .code());
        try (var s = getClass().getResourceAsStream("/tokenizers/llama2-style/tokenizer.json")) {
            Files.write(model.resolve("tokenizer.json"), s.readAllBytes());
        }
        CliHarness r = CliHarness.run(
                "passkey",
                "--model",
                model.toString(),
                "--lengths",
                "400",
                "--trials",
                "2",
                "--json",
                "--threads",
                "1");
        assertEquals(0, r.code(), r.toString());
        JsonNode trials = new ObjectMapper().readTree(r.out()).get("trials");
        for (JsonNode t : trials) {
            int tokens = t.get("promptTokens").asInt();
            assertTrue(tokens <= 400 && tokens > 300, "BPE prompt of " + tokens + " tokens for length 400");
        }

        // eval of a text corpus tokenizes it with the same tokenizer.json, not bytes: the window count says how many
        // tokens it saw (LongLoRA's protocol: starts 0, stride, ... while start < tokens - seqLen).
        Path text = dir.resolve("story.txt");
        String story =
                "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ".repeat(40);
        Files.writeString(text, story);
        int tokens = Tokenizers.forModel(model.toString()).encodeDocument(story).length;
        int expectedWindows = 0;
        for (int start = 0; start < tokens - 64; start += 64) expectedWindows++;
        assertTrue(tokens < story.length(), "BPE should need fewer ids than bytes: " + tokens);
        CliHarness e = CliHarness.run(
                "eval",
                "--model",
                model.toString(),
                "--tokens",
                text.toString(),
                "--seq-len",
                "64",
                "--stride",
                "64",
                "--json",
                "--threads",
                "1");
        assertEquals(0, e.code(), e.toString());
        assertEquals(
                expectedWindows,
                new ObjectMapper().readTree(e.out()).get("windows").asInt(),
                e.out());

        Path adapter = dir.resolve("bpe-adapter");
        assertEquals(
                0,
                CliHarness.run(
                                "init-adapter",
                                "--model",
                                model.toString(),
                                "--out",
                                adapter.toString(),
                                "--noise",
                                "0.02")
                        .code());
        Path merged = dir.resolve("bpe-merged");
        CliHarness m = CliHarness.run(
                "merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(0, m.code(), m.toString());
        assertEquals(
                Files.readString(model.resolve("tokenizer.json")), Files.readString(merged.resolve("tokenizer.json")));
        assertTrue(m.out().contains("copied tokenizer.json"), m.out());
    }
}

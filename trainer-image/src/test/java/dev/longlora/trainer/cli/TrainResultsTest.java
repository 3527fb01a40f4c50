package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.contract.ResultsReport;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.data.EvalWindows;
import dev.longlora.trainer.data.HeldOutSplit;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenFileWriter;
import dev.longlora.trainer.data.TokenRange;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.TokenSources;
import dev.longlora.trainer.eval.PerplexityEvaluator;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a job (docs/contract.md section 8): a real {@code longlora train} of the built-in tiny model with merge
 * and evaluation on writes its results report where the environment says (a pod's termination message), merges a
 * model the trainer's own loader reads back, and evaluates on tokens training never read.
 */
class TrainResultsTest {
    private static final long SEED = 42;

    @TempDir
    Path dir;

    @Test
    void trainingMergesEvaluatesOnHeldOutTokensAndReportsLast() throws Exception {
        Path ckpt = dir.resolve("checkpoints");
        Path message = dir.resolve("termination-log");
        long t0 = System.nanoTime();
        CliHarness r = CliHarness.runWithEnv(
                Map.of(TrainerEnv.RESULTS_FILE, message.toString()),
                train(
                        ckpt,
                        "builtin:synthetic",
                        "--set",
                        "output.merge=true",
                        "--set",
                        "evaluation.maxWindows=2",
                        "--set",
                        "evaluation.passkeyTrials=2"));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.toString());

        ResultsReport report = ResultsReport.parse(Files.readString(message, StandardCharsets.UTF_8));
        assertTrue(Files.size(message) < ResultsReport.MAX_BYTES);
        assertEquals(ckpt.resolve("output/adapter").toString(), report.adapterPath());
        Path merged = ckpt.resolve("output/merged");
        assertEquals(merged.toString(), report.mergedPath());
        assertEquals(
                List.of(64, 256),
                report.perplexity().stream()
                        .map(ResultsReport.Perplexity::length)
                        .toList());
        assertEquals(
                List.of(256),
                report.passkey().stream().map(ResultsReport.Passkey::length).toList());
        double accuracy = report.passkey().getFirst().accuracy();
        assertTrue(accuracy == 0 || accuracy == 0.5 || accuracy == 1, "2 trials: " + accuracy);
        assertTrue(r.out().contains("results: " + report.summary()), r.out());

        // the merged model says how it was trained, and the trainer's own loader reads it
        JsonNode config =
                new ObjectMapper().readTree(merged.resolve("config.json").toFile());
        assertEquals(4.0, config.at("/rope_scaling/factor").asDouble(), config.toString());
        assertEquals(4.0, config.at("/rope_parameters/factor").asDouble(), config.toString());
        assertEquals(256, config.get("max_position_embeddings").asInt());
        try (CpuBackend backend = new CpuBackend(1);
                LlamaModel model = ModelLoader.load(merged.toString(), null, LoraConfig.frozen(), backend, SEED);
                TokenSource corpus = TokenSources.open("builtin:synthetic", "bin", TokenDtype.UINT16, SEED)) {
            assertEquals(4.0, model.ropeScalingFactor());
            // the report's numbers are LongLoRA's protocol on the held-out tail, recomputed here from the merged model
            TokenSource heldOut = HeldOutSplit.of(corpus.length(), 0.01).heldOut(corpus);
            for (ResultsReport.Perplexity p : report.perplexity()) {
                int length = p.length();
                TokenSource windows =
                        TokenRange.of(heldOut, 0, Math.min(heldOut.length(), length + EvalWindows.DEFAULT_STRIDE + 1L));
                double ppl = PerplexityEvaluator.evaluate(
                                model, windows, length, AttentionSpec.full(), EvalWindows.DEFAULT_STRIDE, null)
                        .ppl();
                assertEquals(ppl, p.value(), "perplexity at " + length);
                assertTrue(p.value() > 1 && Double.isFinite(p.value()), p.toString());
            }
        }
        System.out.printf("train 2 steps + merge + evaluation (2 lengths, 2 passkey trials): %.1f s%n", seconds);
    }

    /**
     * Training reads exactly the tokens before the held-out tail: a run on a token file holding only those, with
     * evaluation off, trains the same adapter bit for bit.
     */
    @Test
    void trainingNeverReadsTheHeldOutTokens() throws Exception {
        CliHarness held = CliHarness.run(train(
                dir.resolve("held"),
                "builtin:synthetic",
                "--set",
                "evaluation.passkeyTrials=0",
                "--set",
                "evaluation.maxWindows=1"));
        assertEquals(0, held.code(), held.toString());
        HeldOutSplit split;
        Path head = dir.resolve("head.bin");
        try (TokenSource corpus = TokenSources.open("builtin:synthetic", "bin", TokenDtype.UINT16, SEED)) {
            split = HeldOutSplit.of(corpus.length(), 0.01);
            TokenFileWriter.write(head, corpus.slice(0, (int) split.boundary()), TokenDtype.UINT16);
        }
        assertTrue(
                held.err().contains("evaluation holds out tokens [" + split.boundary() + ", " + split.length() + ")"),
                held.err());
        CliHarness plain =
                CliHarness.run(train(dir.resolve("plain"), head.toString(), "--set", "evaluation.enabled=false"));
        assertEquals(0, plain.code(), plain.toString());
        assertFalse(plain.err().contains("holds out"), plain.err());
        assertEquals(
                -1,
                Files.mismatch(
                        dir.resolve("held/output/adapter/adapter_model.safetensors"),
                        dir.resolve("plain/output/adapter/adapter_model.safetensors")),
                "the same windows, the same adapter");
        CliHarness all =
                CliHarness.run(train(dir.resolve("all"), "builtin:synthetic", "--set", "evaluation.enabled=false"));
        assertEquals(0, all.code(), all.toString());
        assertTrue(
                Files.mismatch(
                                dir.resolve("held/output/adapter/adapter_model.safetensors"),
                                dir.resolve("all/output/adapter/adapter_model.safetensors"))
                        >= 0,
                "without the hold-out the windows (and so the adapter) differ: the comparison above can fail");
    }

    private static String[] train(Path ckpt, String data, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "train",
                "--model",
                "builtin:tiny",
                "--data",
                data,
                "--seq-len",
                "256",
                "--original-length",
                "64",
                "--max-steps",
                "2",
                "--grad-accum",
                "1",
                "--checkpoint-dir",
                ckpt.toString(),
                "--progress",
                "none",
                "--threads",
                "1"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }
}

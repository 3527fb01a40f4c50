package dev.longlora.trainer.train;

import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.ConfigException;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.RankEnv;
import dev.longlora.contract.ResultsReport;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.data.HeldOutSplit;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.TokenSources;
import dev.longlora.trainer.eval.JobEvaluation;
import dev.longlora.trainer.io.AtomicDirectory;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.load.BuiltinModels;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.merge.MergeOptions;
import dev.longlora.trainer.merge.MergeResult;
import dev.longlora.trainer.merge.ModelMerger;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.tokenizer.Tokenizer;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What rank 0 does once the adapter is published (docs/contract.md section 8): merge it into a full HF model under
 * {@code output/merged} when {@code output.merge}, evaluate when {@code evaluation.enabled} (the merged model when
 * there is one, else base + adapter at the trained PI factor), and return the {@link ResultsReport} the trainer
 * writes last. A failed merge fails the job (the user asked for that output); a failed evaluation is logged and
 * reported as not measured, since the trained outputs are already in place.
 */
public final class AfterTraining {
    private AfterTraining() {}

    /** Refuses, before any training, an evaluation file that is not there (rather than hours later). */
    public static void checkBeforeTraining(JobConfig job) {
        String path = job.evaluation().path();
        if (job.evaluation().enabled()
                && path != null
                && !path.startsWith("builtin:")
                && !Files.exists(Path.of(path))) {
            throw new ConfigException("evaluation.path " + path + " does not exist in this pod: mount the evaluation"
                    + " text there, or remove evaluation.path to evaluate on a held-out part of the training data");
        }
    }

    public static ResultsReport run(
            JobConfig job, RankEnv env, Path adapterDir, Supplier<Backend> backends, Consumer<String> log) {
        return run(job, env, adapterDir, backends, log, ProgressSink.none());
    }

    /** As above, telling {@code progress} when merging and evaluating start. */
    public static ResultsReport run(
            JobConfig job,
            RankEnv env,
            Path adapterDir,
            Supplier<Backend> backends,
            Consumer<String> log,
            ProgressSink progress) {
        JobConfig.Evaluation evaluation = job.evaluation();
        if (!job.output().merge() && !evaluation.enabled()) {
            return ResultsReport.of(adapterDir.toString(), null, List.of(), List.of(), Instant.now());
        }
        try (Backend backend = backends.get()) {
            Path merged = null;
            if (job.output().merge()) {
                progress.phase(ProgressPhase.MERGING);
                merged = merge(job, env, adapterDir, backend, log);
            }
            JobEvaluation.Outcome outcome = new JobEvaluation.Outcome(List.of(), List.of());
            if (evaluation.enabled()) {
                progress.phase(ProgressPhase.EVALUATING);
                try {
                    outcome = evaluate(job, adapterDir, merged, backend, log);
                } catch (RuntimeException e) {
                    log.accept("evaluation failed, reported as not measured (the adapter"
                            + (merged != null ? " and the merged model are" : " is") + " published): " + e);
                }
            }
            return ResultsReport.of(
                    adapterDir.toString(),
                    merged == null ? null : merged.toString(),
                    outcome.perplexity(),
                    outcome.passkey(),
                    Instant.now());
        }
    }

    /** Writes the report where the pod's termination message is read from. */
    public static void publish(ResultsReport report, Path file) {
        try {
            Files.writeString(file, report.toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results report to " + file + ": " + e.getMessage(), e);
        }
    }

    public static Path mergedDir(RankEnv env) {
        return env.checkpointDir().resolve(CheckpointLayout.OUTPUT_DIR).resolve(CheckpointLayout.MERGED_DIR);
    }

    private static Path merge(JobConfig job, RankEnv env, Path adapterDir, Backend backend, Consumer<String> log) {
        Path out = mergedDir(env);
        SafetensorsDtype dtype =
                job.training().precision().equals("bf16") ? SafetensorsDtype.BF16 : SafetensorsDtype.F32;
        String model = job.model().path();
        Path base = null;
        try {
            // a built-in base has no directory to merge from: write its weights into a scratch one first
            base = BuiltinModels.isBuiltin(model)
                    ? builtinDirectory(model, backend, job.training().seed())
                    : Path.of(model);
            // context and PI factor come from the adapter's longlora-training.json
            MergeOptions options =
                    new MergeOptions(base, adapterDir, out, MergeOptions.DEFAULT_SHARD_BYTES, dtype, null, null, true);
            MergeResult r = ModelMerger.merge(options, log);
            log.accept("merged model written to " + r.out() + " (" + r.tensors() + " tensors, rope_scaling factor "
                    + r.ropeFactor() + ", max_position_embeddings " + r.maxPositionEmbeddings() + ")");
            return r.out();
        } finally {
            if (base != null && BuiltinModels.isBuiltin(model)) deleteQuietly(base);
        }
    }

    private static Path builtinDirectory(String model, Backend backend, long seed) {
        try (LlamaModel m = ModelLoader.load(model, null, LoraConfig.frozen(), backend, seed)) {
            Path dir = Files.createTempDirectory("longlora-base");
            ModelDirectory.save(dir, m.config(), m.parameters(), SafetensorsDtype.F32);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + model + " into a scratch directory: " + e.getMessage(), e);
        }
    }

    private static JobEvaluation.Outcome evaluate(
            JobConfig job, Path adapterDir, Path merged, Backend backend, Consumer<String> log) {
        long seed = job.training().seed();
        Tokenizer tokenizer = tokenizer(job.model().path(), log);
        try (LlamaModel model = merged != null
                        ? ModelLoader.load(merged.toString(), null, LoraConfig.frozen(), backend, seed)
                        : ModelLoader.load(job.model().path(), adapterDir, LoraConfig.frozen(), backend, seed);
                TokenSource source = openEvaluationSource(job)) {
            // a merged model's config.json carries the factor; base + adapter run at the factor trained at
            if (merged == null) model.setRopeScalingFactor(job.context().ropeFactor());
            TokenSource text = source;
            if (job.evaluation().path() == null) {
                text = HeldOutSplit.forJob(job, source.length()).heldOut(source);
                log.accept("evaluation reads " + text.description() + ", held out of training");
            }
            return JobEvaluation.run(
                    model, tokenizer, text, job.evaluation(), job.context().targetLength(), seed, log);
        } finally {
            if (tokenizer instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // a tokenizer's native handle; nothing to save
                }
            }
        }
    }

    private static Tokenizer tokenizer(String model, Consumer<String> log) {
        try {
            return Tokenizers.forModel(model);
        } catch (RuntimeException e) {
            log.accept("evaluation: no tokenizer for passkey prompts: " + e.getMessage());
            return null;
        }
    }

    /** evaluation.path, else the training data, whose held-out tail is then read. */
    private static TokenSource openEvaluationSource(JobConfig job) {
        String path = job.evaluation().path();
        return TokenSources.open(
                path != null ? path : job.data().path(),
                job.data().format(),
                TokenDtype.parse(job.data().tokenDtype()),
                job.training().seed(),
                () -> Tokenizers.forModel(job.model().path()));
    }

    private static void deleteQuietly(Path dir) {
        try {
            AtomicDirectory.deleteTree(dir);
        } catch (IOException ignored) {
            // a scratch directory under the system's temporary folder
        }
    }
}

package dev.longlora.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.RankEnv;
import dev.longlora.contract.ResultsReport;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cuda.BackendSelector;
import dev.longlora.trainer.progress.PodProgress;
import dev.longlora.trainer.train.AfterTraining;
import dev.longlora.trainer.train.ProgressSink;
import dev.longlora.trainer.train.RankGroup;
import dev.longlora.trainer.train.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code longlora train --config job.json}: runs a job from the resolved config (docs/contract.md section 4). Flags
 * override fields of the file; the environment carries the rank wiring, CHECKPOINT_DIR and RESUME_FROM (section 3),
 * which {@code --checkpoint-dir} and {@code --resume-from} override for local runs.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description =
                "Trains a LoRA adapter per a job config; checkpoints to $CHECKPOINT_DIR and resumes per $RESUME_FROM.")
final class TrainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "the resolved job config (job.json); without it only flags are used")
    Path config;

    @Option(
            names = "--model",
            paramLabel = "DIR",
            description = "overrides model.path (a model directory or builtin:tiny)")
    String model;

    @Option(
            names = "--data",
            paramLabel = "FILE",
            description = "overrides data.path (a token file, text file or builtin:synthetic)")
    String data;

    @Option(names = "--data-format", paramLabel = "bin|text|jsonl|alpaca", description = "overrides data.format")
    String dataFormat;

    @Option(names = "--token-dtype", paramLabel = "uint16|uint32", description = "overrides data.tokenDtype")
    String tokenDtype;

    @Option(names = "--seq-len", paramLabel = "N", description = "overrides context.targetLength (the training length)")
    Integer seqLen;

    @Option(names = "--original-length", paramLabel = "N", description = "overrides context.originalLength")
    Integer originalLength;

    @Option(names = "--rope-factor", paramLabel = "F", description = "overrides context.ropeFactor")
    Double ropeFactor;

    @Option(names = "--attn", paramLabel = "s2|full|short", description = "overrides attention.pattern")
    String attn;

    @Option(names = "--groups", paramLabel = "N", description = "overrides attention.groups")
    Integer groups;

    @Option(names = "--group-ratio", paramLabel = "R", description = "overrides attention.groups with 1/R")
    Double groupRatio;

    @Option(names = "--max-steps", paramLabel = "N", description = "overrides training.maxSteps")
    Integer maxSteps;

    @Option(names = "--lr", paramLabel = "LR", description = "overrides training.learningRate")
    Double lr;

    @Option(names = "--grad-accum", paramLabel = "N", description = "overrides training.gradientAccumulationSteps")
    Integer gradAccum;

    @Option(names = "--seed", paramLabel = "S", description = "overrides training.seed")
    Long seed;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "overrides checkpoint.everySteps")
    Integer checkpointEvery;

    @Option(
            names = "--set",
            paramLabel = "PATH=VALUE",
            description = "overrides any field, e.g. --set training.warmupSteps=5")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(
            names = "--checkpoint-dir",
            paramLabel = "DIR",
            description = "overrides $CHECKPOINT_DIR (default ./checkpoints)")
    Path checkpointDir;

    @Option(
            names = "--resume-from",
            paramLabel = "latest|none|N",
            description = "overrides $RESUME_FROM (default latest)")
    String resumeFrom;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--backend",
            paramLabel = "cpu|cuda",
            description = "compute backend (default: $LONGLORA_BACKEND, else cuda when GPUS_PER_NODE > 0, else cpu)")
    String backendName;

    @Option(names = "--dry-run", description = "print the resolved config and rank wiring as JSON, then exit")
    boolean dryRun;

    @Option(
            names = "--progress",
            paramLabel = "auto|bar|lines|none",
            description = "progress display: a bar on a terminal, log lines otherwise (default ${DEFAULT-VALUE})")
    String progressMode = "auto";

    @ParentCommand
    Main main;

    @Override
    public Integer call() {
        Map<String, String> overrides = new LinkedHashMap<>();
        put(overrides, "model.path", model);
        put(overrides, "data.path", data);
        put(overrides, "data.format", dataFormat);
        put(overrides, "data.tokenDtype", tokenDtype);
        put(overrides, "context.targetLength", seqLen);
        put(overrides, "context.originalLength", originalLength);
        put(overrides, "context.ropeFactor", ropeFactor);
        put(overrides, "attention.pattern", attn);
        if (groups != null && groupRatio != null)
            throw new ConfigException("give either --groups or --group-ratio, not both");
        Integer resolvedGroups = groups;
        if (groupRatio != null)
            resolvedGroups = dev.longlora.trainer.model.AttentionSpec.s2FromRatio(groupRatio)
                    .groups();
        put(overrides, "attention.groups", resolvedGroups);
        put(overrides, "training.maxSteps", maxSteps);
        put(overrides, "training.learningRate", lr);
        put(overrides, "training.gradientAccumulationSteps", gradAccum);
        put(overrides, "training.seed", seed);
        put(overrides, "checkpoint.everySteps", checkpointEvery);
        overrides.putAll(set);
        JobConfig job = JobConfigJson.read(config, overrides);

        Map<String, String> env = new HashMap<>(main.environment());
        if (checkpointDir != null) env.put(TrainerEnv.CHECKPOINT_DIR, checkpointDir.toString());
        if (resumeFrom != null) env.put(TrainerEnv.RESUME_FROM, resumeFrom);
        RankEnv rank = RankEnv.from(env).requireAgreement(env, job);

        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (dryRun) {
            out.println(dryRunDocument(job, rank));
            out.flush();
            return ExitCode.OK.code();
        }
        String backendChoice = backendName != null
                ? backendName
                : env.get(TrainerEnv.BACKEND) != null
                        ? env.get(TrainerEnv.BACKEND)
                        : rank.gpusPerNode() > 0 ? "cuda" : "cpu";
        out.println("job " + job.job().namespace() + "/" + job.job().name() + ": model "
                + job.model().path() + ", data "
                + job.data().path() + ", context " + job.context().targetLength() + " (PI factor "
                + job.context().ropeFactor()
                + "), attention " + job.attention().pattern() + ", checkpoints in " + rank.checkpointDir());
        out.flush();
        // refused before any rank opens a backend (eight CUDA contexts just to say no would be slow)
        BackendSelector.requireMultiRankSupport(backendChoice, rank.worldSize());
        AfterTraining.checkBeforeTraining(job);
        int localRanks = rank.localRanks();
        int threadsPerRank = Math.max(1, threads / localRanks);
        try (ProgressSink progress = progressSink(out, err, job, rank, env)) {
            progress.phase(ProgressPhase.LOADING);
            RankGroup ranks = new RankGroup(
                    job,
                    rank,
                    local -> {
                        Backend backend = BackendSelector.open(backendChoice, threadsPerRank, local);
                        if (local == 0) {
                            out.println("backend " + backend.name()
                                    + (rank.worldSize() > 1
                                            ? ", rank " + rank.globalRank(0) + " of " + rank.worldSize()
                                                    + (localRanks > 1 ? " (" + localRanks + " ranks in this JVM)" : "")
                                            : ""));
                            out.flush();
                        }
                        return backend;
                    },
                    progress,
                    msg -> {
                        err.println(msg);
                        err.flush();
                    });
            try (StopOnTerm stop = StopOnTerm.install(ranks::requestStop, err)) {
                TrainingRun.Result r = ranks.run();
                String last = r.losses().isEmpty()
                        ? "-"
                        : String.format(Locale.ROOT, "%.6f", r.losses().getLast());
                if (r.adapterDir() != null) {
                    // Training is complete and its adapter published; a SIGTERM during the merge or evaluation
                    // exits Stopped (not 143, a counted crash): the restart resumes at the last step, trains
                    // nothing and does this part again.
                    stop.exitOnTermFromNowOn(ExitCode.STOPPED.code());
                    out.printf(
                            Locale.ROOT,
                            "done: steps %d..%d, final loss %s, adapter %s%n",
                            r.firstStep() + 1,
                            r.lastStep(),
                            last,
                            r.adapterDir());
                    out.flush();
                    if (rank.globalRank(0) == 0) report(job, rank, r, backendChoice, env, out, err, progress);
                    progress.phase(ProgressPhase.DONE);
                    return ExitCode.OK.code();
                }
                out.printf(
                        Locale.ROOT,
                        "stopped after step %d (loss %s) with a checkpoint there; a restart resumes from it (exit %d,"
                                + " %s)%n",
                        r.lastStep(),
                        last,
                        ExitCode.STOPPED.code(),
                        ExitCode.STOPPED.reason());
                out.flush();
                return ExitCode.STOPPED.code();
            }
        }
    }

    /** Rank 0's last act: merge and evaluate per the job, then the results report (contract section 8). */
    private void report(
            JobConfig job,
            RankEnv rank,
            TrainingRun.Result r,
            String backendChoice,
            Map<String, String> env,
            PrintWriter out,
            PrintWriter err,
            ProgressSink progress) {
        ResultsReport report = AfterTraining.run(
                job,
                rank,
                r.adapterDir(),
                () -> BackendSelector.open(backendChoice, threads),
                msg -> {
                    err.println(msg);
                    err.flush();
                },
                progress);
        out.println("results: " + report.summary());
        out.flush();
        String file = env.get(TrainerEnv.RESULTS_FILE);
        if (file == null || file.isBlank()) return;
        try {
            AfterTraining.publish(report, Path.of(file));
        } catch (RuntimeException e) {
            // the outputs are published; a lost report must not turn a trained job into a failed one
            err.println("warning: " + e.getMessage());
            err.flush();
        }
    }

    /** What `--dry-run` prints: one JSON document with the resolved config and the rank wiring. */
    static String dryRunDocument(JobConfig job, RankEnv rank) {
        ObjectNode doc = JSON.createObjectNode();
        doc.set("config", JobConfigJson.tree(job));
        doc.set("rank", JSON.valueToTree(rank.describe()));
        return doc.toPrettyString();
    }

    /**
     * The console display per --progress, plus, on the pod of rank 0 (POD_NAME set, node rank 0), its progress
     * annotation (contract section 6). Failures to report are logged once to stderr and never stop training.
     */
    private ProgressSink progressSink(
            PrintWriter out, PrintWriter err, JobConfig job, RankEnv rank, Map<String, String> env) {
        ProgressSink console = consoleSink(out, job);
        // no pod, no annotation: PodProgress (and the Fabric8 client, absent from the GPU check's pack) stays unloaded
        String pod = env.get(TrainerEnv.POD_NAME);
        if (rank.globalRank(0) != 0 || pod == null || pod.isBlank()) return console;
        return PodProgress.fromEnvironment(env, job.training().progressEverySeconds(), msg -> {
                    err.println(msg);
                    err.flush();
                })
                .<ProgressSink>map(annotation -> ProgressSink.tee(List.of(console, annotation)))
                .orElse(console);
    }

    private ProgressSink consoleSink(PrintWriter out, JobConfig job) {
        return switch (progressMode) {
            case "none" -> ProgressSink.none();
            case "lines" -> new LogLineProgress(out, job.training().logEverySteps());
            case "bar" -> new ConsoleProgressBar(System.err);
            case "auto" ->
                System.console() != null && System.console().isTerminal()
                        ? new ConsoleProgressBar(System.err)
                        : new LogLineProgress(out, job.training().logEverySteps());
            default ->
                throw new ConfigException("--progress '" + progressMode + "' is unknown: use auto, bar, lines or none");
        };
    }

    private static void put(Map<String, String> m, String key, Object value) {
        if (value != null) m.put(key, value.toString());
    }
}

package dev.longlora.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The resolved job config, {@code /etc/longlora/job.json} (docs/contract.md section 4): the operator builds it from a
 * job's spec and writes it into the job's ConfigMap; the trainer reads it. Every default lives here, in the compact
 * constructors (a null component takes its default), and every rule in {@link #problems()}. Unknown fields are
 * ignored (forward compatibility). The CRD repeats the defaults for the API server; a test keeps them equal.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobConfig(
        String apiVersion,
        Job job,
        Model model,
        Data data,
        Context context,
        Attention attention,
        Lora lora,
        Training training,
        Distributed distributed,
        Checkpoint checkpoint,
        Output output,
        Evaluation evaluation) {

    public static final List<String> DATA_FORMATS = List.of("bin", "text", "jsonl", "alpaca");
    public static final List<String> TOKEN_DTYPES = List.of("uint16", "uint32");
    /** {@code short}: LongLoRA's ablation without the shift (trainer only; the API offers s2 and full). */
    public static final List<String> ATTENTION_PATTERNS = List.of("s2", "full", "short");

    public static final List<String> SCHEDULES = List.of("constant_with_warmup", "cosine");
    public static final List<String> PRECISIONS = List.of("fp32", "bf16");

    public JobConfig {
        if (apiVersion == null) apiVersion = ApiNames.API_VERSION;
        if (job == null) job = new Job(null, null);
        if (model == null) model = new Model(null, null);
        if (data == null) data = new Data(null, null, null);
        if (context == null) context = new Context(null, null, null);
        if (attention == null) attention = new Attention(null, null);
        if (lora == null) lora = new Lora(null, null, null, null, null, null);
        if (training == null)
            training = new Training(
                    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        if (distributed == null) distributed = new Distributed(null, null, null, null, null, null);
        if (checkpoint == null) checkpoint = new Checkpoint(null, null);
        if (output == null) output = new Output(null);
        if (evaluation == null) evaluation = new Evaluation(null, null, null, null, null, null);
        if (evaluation.lengths().isEmpty()) evaluation = evaluation.withLengths(defaultLengths(context));
    }

    /** Evaluation's default lengths: the original context and the target (one when they are equal). */
    private static List<Integer> defaultLengths(Context context) {
        return java.util.stream.Stream.of(context.originalLength(), context.targetLength())
                .distinct()
                .toList();
    }

    /** Every default; model and data paths unset. */
    public static JobConfig defaults() {
        return new JobConfig(null, null, null, null, null, null, null, null, null, null, null, null);
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Job(String name, String namespace) {
        public Job {
            if (name == null) name = "local";
            if (namespace == null) namespace = "default";
        }
    }

    /** {@code path}: a directory in the pod, or {@code builtin:tiny}. {@code name}: recorded in the adapter config. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Model(String path, String name) {
        public Model {
            if (name == null) name = path;
        }
    }

    /** {@code format}: bin, text, jsonl or alpaca; {@code tokenDtype}: uint16 or uint32 (bin only). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Data(String path, String format, String tokenDtype) {
        public Data {
            if (format == null) format = "bin";
            if (tokenDtype == null) tokenDtype = "uint16";
            format = format.toLowerCase(Locale.ROOT);
            tokenDtype = tokenDtype.toLowerCase(Locale.ROOT);
        }
    }

    /** {@code ropeFactor}: linear PI factor, ceil(targetLength / originalLength) unless given. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Context(Integer originalLength, Integer targetLength, Double ropeFactor) {
        public Context {
            if (originalLength == null) originalLength = 4096;
            if (targetLength == null) targetLength = 32768;
            if (ropeFactor == null && originalLength > 0) {
                ropeFactor = (double) ((targetLength + originalLength - 1) / originalLength);
            }
        }
    }

    /** {@code groups}: S2 groups; the group size is targetLength / groups. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Attention(String pattern, Integer groups) {
        public Attention {
            if (pattern == null) pattern = "s2";
            if (groups == null) groups = 4;
            pattern = pattern.toLowerCase(Locale.ROOT);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Lora(
            Integer rank,
            Double alpha,
            Double dropout,
            List<String> targetModules,
            Boolean trainEmbeddings,
            Boolean trainNorms) {
        public static final List<String> DEFAULT_TARGET_MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj");

        public Lora {
            if (rank == null) rank = 8;
            if (alpha == null) alpha = 16.0;
            if (dropout == null) dropout = 0.0;
            if (targetModules == null || targetModules.isEmpty()) targetModules = DEFAULT_TARGET_MODULES;
            if (trainEmbeddings == null) trainEmbeddings = true;
            if (trainNorms == null) trainNorms = true;
            targetModules = targetModules.stream().distinct().toList();
        }
    }

    /** LongLoRA's recipe: AdamW (0.9, 0.95), lr 2e-5, 20 warm-up steps, 8 accumulation steps. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Training(
            Integer maxSteps,
            Double learningRate,
            Integer warmupSteps,
            String schedule,
            Integer microBatchSize,
            Integer gradientAccumulationSteps,
            Double maxGradNorm,
            Double weightDecay,
            Double adamBeta1,
            Double adamBeta2,
            Double adamEpsilon,
            String precision,
            Boolean gradientCheckpointing,
            Long seed,
            Integer logEverySteps,
            Integer progressEverySeconds) {
        /** How often rank 0 reports to its pod annotation, besides checkpoints, phase changes and the end. */
        public static final int DEFAULT_PROGRESS_EVERY_SECONDS = 10;

        public Training {
            if (maxSteps == null) maxSteps = 1000;
            if (learningRate == null) learningRate = 2.0e-5;
            if (warmupSteps == null) warmupSteps = 20;
            if (schedule == null) schedule = "constant_with_warmup";
            if (microBatchSize == null) microBatchSize = 1;
            if (gradientAccumulationSteps == null) gradientAccumulationSteps = 8;
            if (maxGradNorm == null) maxGradNorm = 1.0;
            if (weightDecay == null) weightDecay = 0.0;
            if (adamBeta1 == null) adamBeta1 = 0.9;
            if (adamBeta2 == null) adamBeta2 = 0.95;
            if (adamEpsilon == null) adamEpsilon = 1.0e-8;
            if (precision == null) precision = "bf16";
            if (gradientCheckpointing == null) gradientCheckpointing = true;
            if (seed == null) seed = 42L;
            if (logEverySteps == null) logEverySteps = 1;
            if (progressEverySeconds == null) progressEverySeconds = DEFAULT_PROGRESS_EVERY_SECONDS;
            schedule = schedule.toLowerCase(Locale.ROOT);
            precision = precision.toLowerCase(Locale.ROOT);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    /**
     * {@code rendezvousTimeoutSeconds}: how long ranks wait for the whole gang at MASTER_ADDR:MASTER_PORT (pods start
     * at different times: scheduling, image pulls); {@code collectiveTimeoutSeconds}: how long a rank waits in one
     * collective for a silent peer (it covers the slowest rank's step and rank 0 writing a checkpoint). Either expiry
     * exits 10 (LostPeer).
     */
    public record Distributed(
            Integer nodes,
            Integer gpusPerNode,
            Integer zeroStage,
            Boolean offloadOptimizer,
            Integer rendezvousTimeoutSeconds,
            Integer collectiveTimeoutSeconds) {
        public static final int DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS = 600;
        public static final int DEFAULT_COLLECTIVE_TIMEOUT_SECONDS = 600;
        public static final int MAX_TIMEOUT_SECONDS = 86_400;

        public Distributed {
            if (nodes == null) nodes = 1;
            if (gpusPerNode == null) gpusPerNode = 8;
            if (zeroStage == null) zeroStage = 2;
            if (offloadOptimizer == null) offloadOptimizer = false;
            if (rendezvousTimeoutSeconds == null) rendezvousTimeoutSeconds = DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS;
            if (collectiveTimeoutSeconds == null) collectiveTimeoutSeconds = DEFAULT_COLLECTIVE_TIMEOUT_SECONDS;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Checkpoint(Integer everySteps, Integer keep) {
        public Checkpoint {
            if (everySteps == null) everySteps = 100;
            if (keep == null) keep = 3;
        }
    }

    /** What the job publishes besides the adapter: {@code merge} folds it into a full HF model (output/merged). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Output(Boolean merge) {
        public Output {
            if (merge == null) merge = false;
        }
    }

    /**
     * What rank 0 measures after training (and merging): perplexity at each of {@code lengths} with LongLoRA's
     * protocol over at most {@code maxWindows} windows, and passkey retrieval at the target length over
     * {@code passkeyTrials} prompts (0: none). The text comes from {@code path} (same format as data) or, without one,
     * from the last {@code heldOutFraction} of the training data, which training then never reads.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Evaluation(
            Boolean enabled,
            List<Integer> lengths,
            String path,
            Double heldOutFraction,
            Integer maxWindows,
            Integer passkeyTrials) {
        public static final double DEFAULT_HELD_OUT_FRACTION = 0.01;
        public static final double MAX_HELD_OUT_FRACTION = 0.5;
        public static final int DEFAULT_MAX_WINDOWS = 8;
        public static final int MAX_WINDOWS = 10_000;
        public static final int DEFAULT_PASSKEY_TRIALS = 5;
        public static final int MAX_PASSKEY_TRIALS = 1000;
        /** Keeps the results report (one entry per length) far below the 4096 bytes of a termination message. */
        public static final int MAX_LENGTHS = 8;

        public static final int MIN_LENGTH = 2;
        public static final int MAX_LENGTH = 1_048_576;

        public Evaluation {
            if (enabled == null) enabled = true;
            lengths = lengths == null ? List.of() : lengths.stream().distinct().toList();
            if (path != null && path.isBlank()) path = null;
            if (heldOutFraction == null && path == null) heldOutFraction = DEFAULT_HELD_OUT_FRACTION;
            if (maxWindows == null) maxWindows = DEFAULT_MAX_WINDOWS;
            if (passkeyTrials == null) passkeyTrials = DEFAULT_PASSKEY_TRIALS;
        }

        Evaluation withLengths(List<Integer> newLengths) {
            return new Evaluation(enabled, newLengths, path, heldOutFraction, maxWindows, passkeyTrials);
        }

        /** The share of the training data held out for evaluation: 0 when evaluation is off or reads its own file. */
        public double heldOutShare() {
            return enabled && path == null && heldOutFraction != null ? heldOutFraction : 0.0;
        }
    }

    /** Ranks in the gang: one per GPU, or one per pod for a CPU-only job (contract section 2). */
    public int worldSize() {
        return distributed.nodes() * Math.max(1, distributed.gpusPerNode());
    }

    /** Checks every rule; throws {@link ConfigException} naming the first broken one and its fix. */
    public JobConfig validate() {
        List<ConfigProblem> problems = problems();
        if (!problems.isEmpty()) throw new ConfigException(problems.getFirst().message());
        return this;
    }

    /** Every broken rule, in field order; each message names the field and the fix. */
    public List<ConfigProblem> problems() {
        List<ConfigProblem> p = new ArrayList<>();
        check(
                p,
                ApiNames.API_VERSION.equals(apiVersion),
                "apiVersion",
                "{apiVersion} '" + apiVersion + "' is not supported: this trainer reads " + ApiNames.API_VERSION);
        check(
                p,
                model.path() != null && !model.path().isBlank(),
                "model.path",
                "{model.path} is required (a model directory or builtin:tiny)");
        check(
                p,
                data.path() != null && !data.path().isBlank(),
                "data.path",
                "{data.path} is required (a token file, a text file or builtin:synthetic)");
        check(
                p,
                DATA_FORMATS.contains(data.format()),
                "data.format",
                "{data.format} '" + data.format() + "' is not supported: use " + String.join(", ", DATA_FORMATS));
        check(
                p,
                TOKEN_DTYPES.contains(data.tokenDtype()),
                "data.tokenDtype",
                "{data.tokenDtype} '" + data.tokenDtype() + "' is not supported: use uint16 or uint32");
        check(
                p,
                context.originalLength() > 0,
                "context.originalLength",
                "{context.originalLength}=" + context.originalLength() + " must be positive");
        check(
                p,
                context.targetLength() > 0,
                "context.targetLength",
                "{context.targetLength}=" + context.targetLength() + " must be positive");
        check(
                p,
                context.ropeFactor() != null && context.ropeFactor() >= 1.0 && Double.isFinite(context.ropeFactor()),
                "context.ropeFactor",
                "{context.ropeFactor}=" + context.ropeFactor() + " must be a number >= 1");
        check(
                p,
                ATTENTION_PATTERNS.contains(attention.pattern()),
                "attention.pattern",
                "{attention.pattern} '" + attention.pattern() + "' is unknown: use s2 or full");
        check(
                p,
                attention.groups() >= 1,
                "attention.groups",
                "{attention.groups}=" + attention.groups() + " must be >= 1 (default 4)");
        if (!attention.pattern().equals("full") && attention.groups() >= 1 && context.targetLength() > 0) {
            int l = context.targetLength();
            int g = attention.groups();
            check(
                    p,
                    l % g == 0 && (l / g) % 2 == 0,
                    "context.targetLength",
                    "{context.targetLength}=" + l + " does not split into {attention.groups}=" + g
                            + " groups of even size: choose a length divisible by " + 2 * g);
        }
        check(p, lora.rank() >= 0, "lora.rank", "{lora.rank}=" + lora.rank() + " must be >= 0");
        check(p, lora.alpha() > 0, "lora.alpha", "{lora.alpha}=" + lora.alpha() + " must be positive");
        check(
                p,
                lora.dropout() >= 0 && lora.dropout() < 1,
                "lora.dropout",
                "{lora.dropout}=" + lora.dropout() + " must be in [0, 1)");
        check(
                p,
                training.maxSteps() >= 1,
                "training.maxSteps",
                "{training.maxSteps}=" + training.maxSteps() + " must be >= 1");
        check(
                p,
                training.learningRate() > 0 && Double.isFinite(training.learningRate()),
                "training.learningRate",
                "{training.learningRate}=" + training.learningRate() + " must be a positive number");
        check(
                p,
                training.warmupSteps() >= 0,
                "training.warmupSteps",
                "{training.warmupSteps}=" + training.warmupSteps() + " must be >= 0");
        check(
                p,
                SCHEDULES.contains(training.schedule()),
                "training.schedule",
                "{training.schedule} '" + training.schedule() + "' is unknown: use constant_with_warmup or cosine");
        check(
                p,
                training.microBatchSize() >= 1,
                "training.microBatchSize",
                "{training.microBatchSize}=" + training.microBatchSize() + " must be >= 1");
        check(
                p,
                training.gradientAccumulationSteps() >= 1,
                "training.gradientAccumulationSteps",
                "{training.gradientAccumulationSteps}=" + training.gradientAccumulationSteps() + " must be >= 1");
        check(
                p,
                training.maxGradNorm() >= 0,
                "training.maxGradNorm",
                "{training.maxGradNorm}=" + training.maxGradNorm() + " must be >= 0 (0 disables clipping)");
        check(
                p,
                training.weightDecay() >= 0,
                "training.weightDecay",
                "{training.weightDecay}=" + training.weightDecay() + " must be >= 0");
        check(
                p,
                training.adamBeta1() >= 0 && training.adamBeta1() < 1,
                "training.adamBeta1",
                "{training.adamBeta1}=" + training.adamBeta1() + " must be in [0, 1)");
        check(
                p,
                training.adamBeta2() >= 0 && training.adamBeta2() < 1,
                "training.adamBeta2",
                "{training.adamBeta2}=" + training.adamBeta2() + " must be in [0, 1)");
        check(
                p,
                training.adamEpsilon() > 0,
                "training.adamEpsilon",
                "{training.adamEpsilon}=" + training.adamEpsilon() + " must be positive");
        check(
                p,
                PRECISIONS.contains(training.precision()),
                "training.precision",
                "{training.precision} '" + training.precision() + "' is unknown: use fp32 or bf16");
        check(
                p,
                training.logEverySteps() >= 1,
                "training.logEverySteps",
                "{training.logEverySteps}=" + training.logEverySteps() + " must be >= 1");
        check(
                p,
                training.progressEverySeconds() >= 1,
                "training.progressEverySeconds",
                "{training.progressEverySeconds}=" + training.progressEverySeconds()
                        + " must be >= 1 (seconds between progress reports to the pod annotation; 10 is the default)");
        check(
                p,
                distributed.nodes() >= 1,
                "distributed.nodes",
                "{distributed.nodes}=" + distributed.nodes() + " must be >= 1");
        check(
                p,
                distributed.gpusPerNode() >= 0 && distributed.gpusPerNode() <= 8,
                "distributed.gpusPerNode",
                "{distributed.gpusPerNode}=" + distributed.gpusPerNode() + " must be 0..8 (0 = CPU only)");
        check(
                p,
                distributed.zeroStage() >= 0 && distributed.zeroStage() <= 3,
                "distributed.zeroStage",
                "{distributed.zeroStage}=" + distributed.zeroStage() + " must be 0..3");
        check(
                p,
                distributed.rendezvousTimeoutSeconds() >= 1
                        && distributed.rendezvousTimeoutSeconds() <= Distributed.MAX_TIMEOUT_SECONDS,
                "distributed.rendezvousTimeoutSeconds",
                "{distributed.rendezvousTimeoutSeconds}=" + distributed.rendezvousTimeoutSeconds() + " must be 1.."
                        + Distributed.MAX_TIMEOUT_SECONDS);
        check(
                p,
                distributed.collectiveTimeoutSeconds() >= 1
                        && distributed.collectiveTimeoutSeconds() <= Distributed.MAX_TIMEOUT_SECONDS,
                "distributed.collectiveTimeoutSeconds",
                "{distributed.collectiveTimeoutSeconds}=" + distributed.collectiveTimeoutSeconds() + " must be 1.."
                        + Distributed.MAX_TIMEOUT_SECONDS);
        check(
                p,
                checkpoint.everySteps() >= 1,
                "checkpoint.everySteps",
                "{checkpoint.everySteps}=" + checkpoint.everySteps() + " must be >= 1");
        check(p, checkpoint.keep() >= 1, "checkpoint.keep", "{checkpoint.keep}=" + checkpoint.keep() + " must be >= 1");
        check(
                p,
                evaluation.lengths().size() <= Evaluation.MAX_LENGTHS,
                "evaluation.lengths",
                "{evaluation.lengths} lists " + evaluation.lengths().size() + " lengths: give at most "
                        + Evaluation.MAX_LENGTHS);
        for (Integer length : evaluation.lengths()) {
            check(
                    p,
                    length != null && length >= Evaluation.MIN_LENGTH && length <= Evaluation.MAX_LENGTH,
                    "evaluation.lengths",
                    "{evaluation.lengths} holds " + length + ": every length must be " + Evaluation.MIN_LENGTH + ".."
                            + Evaluation.MAX_LENGTH + " tokens");
        }
        check(
                p,
                evaluation.path() == null || evaluation.heldOutFraction() == null,
                "evaluation.heldOutFraction",
                "{evaluation.path} and {evaluation.heldOutFraction} are both set: evaluate on a file of its own (path)"
                        + " or on a held-out part of the training data (heldOutFraction), not both");
        check(
                p,
                evaluation.heldOutFraction() == null
                        || (evaluation.heldOutFraction() > 0
                                && evaluation.heldOutFraction() <= Evaluation.MAX_HELD_OUT_FRACTION),
                "evaluation.heldOutFraction",
                "{evaluation.heldOutFraction}=" + evaluation.heldOutFraction() + " must be in (0, "
                        + Evaluation.MAX_HELD_OUT_FRACTION + "] (default " + Evaluation.DEFAULT_HELD_OUT_FRACTION
                        + "); to skip evaluation set {evaluation.enabled} false");
        check(
                p,
                evaluation.maxWindows() >= 1 && evaluation.maxWindows() <= Evaluation.MAX_WINDOWS,
                "evaluation.maxWindows",
                "{evaluation.maxWindows}=" + evaluation.maxWindows() + " must be 1.." + Evaluation.MAX_WINDOWS);
        check(
                p,
                evaluation.passkeyTrials() >= 0 && evaluation.passkeyTrials() <= Evaluation.MAX_PASSKEY_TRIALS,
                "evaluation.passkeyTrials",
                "{evaluation.passkeyTrials}=" + evaluation.passkeyTrials() + " must be 0.."
                        + Evaluation.MAX_PASSKEY_TRIALS + " (0: no passkey retrieval)");
        return p;
    }

    private static void check(List<ConfigProblem> problems, boolean ok, String field, String template) {
        if (!ok) problems.add(new ConfigProblem(field, template));
    }
}

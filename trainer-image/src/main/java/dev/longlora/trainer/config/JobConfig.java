package dev.longlora.trainer.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Locale;

/**
 * The resolved training config that the operator mounts at {@code /etc/longlora/job.json} (docs/contract.md
 * section 4). Unknown fields are ignored (forward compatibility); missing fields take the contract's defaults,
 * except the model and data paths, which every job must name.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
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
        Checkpoint checkpoint) {

    public static final String API_VERSION = "longlora.dev/v1alpha1";

    public JobConfig {
        if (apiVersion == null) apiVersion = API_VERSION;
        if (job == null) job = new Job(null, null);
        if (model == null) model = new Model(null, null);
        if (data == null) data = new Data(null, null, null);
        if (context == null) context = new Context(null, null, null);
        if (attention == null) attention = new Attention(null, null);
        if (lora == null) lora = new Lora(null, null, null, null, null, null);
        if (training == null)
            training = new Training(
                    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        if (distributed == null) distributed = new Distributed(null, null, null, null);
        if (checkpoint == null) checkpoint = new Checkpoint(null, null);
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
    public record Model(String path, String name) {
        public Model {
            if (name == null) name = path;
        }
    }

    /** {@code format}: bin, text, jsonl or alpaca; {@code tokenDtype}: uint16 or uint32 (bin only). */
    @JsonIgnoreProperties(ignoreUnknown = true)
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
    public record Context(Integer originalLength, Integer targetLength, Double ropeFactor) {
        public Context {
            if (originalLength == null) originalLength = 4096;
            if (targetLength == null) targetLength = 32768;
            if (ropeFactor == null && originalLength > 0) {
                ropeFactor = (double) ((targetLength + originalLength - 1) / originalLength);
            }
        }
    }

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
        public Lora {
            if (rank == null) rank = 8;
            if (alpha == null) alpha = 16.0;
            if (dropout == null) dropout = 0.0;
            if (targetModules == null) targetModules = List.of("q_proj", "k_proj", "v_proj", "o_proj");
            if (trainEmbeddings == null) trainEmbeddings = true;
            if (trainNorms == null) trainNorms = true;
            targetModules = List.copyOf(targetModules);
        }
    }

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
            Integer logEverySteps) {
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
            schedule = schedule.toLowerCase(Locale.ROOT);
            precision = precision.toLowerCase(Locale.ROOT);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Distributed(Integer nodes, Integer gpusPerNode, Integer zeroStage, Boolean offloadOptimizer) {
        public Distributed {
            if (nodes == null) nodes = 1;
            if (gpusPerNode == null) gpusPerNode = 8;
            if (zeroStage == null) zeroStage = 2;
            if (offloadOptimizer == null) offloadOptimizer = false;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Checkpoint(Integer everySteps, Integer keep) {
        public Checkpoint {
            if (everySteps == null) everySteps = 100;
            if (keep == null) keep = 3;
        }
    }

    /**
     * Checks every field; throws {@link ConfigException} naming the first bad field and the fix.
     */
    public JobConfig validate() {
        if (!API_VERSION.equals(apiVersion)) {
            throw new ConfigException(
                    "apiVersion '" + apiVersion + "' is not supported: this trainer reads " + API_VERSION);
        }
        require(
                model.path() != null && !model.path().isBlank(),
                "model.path is required (a model directory or builtin:tiny)");
        require(
                data.path() != null && !data.path().isBlank(),
                "data.path is required (a token file, a text file or builtin:synthetic)");
        require(
                List.of("bin", "text", "jsonl", "alpaca").contains(data.format()),
                "data.format '" + data.format() + "' is not supported: use bin, text, jsonl or alpaca");
        require(
                List.of("uint16", "uint32").contains(data.tokenDtype()),
                "data.tokenDtype '" + data.tokenDtype() + "' is not supported: use uint16 or uint32");
        require(
                context.originalLength() > 0,
                "context.originalLength=" + context.originalLength() + " must be positive");
        require(context.targetLength() > 0, "context.targetLength=" + context.targetLength() + " must be positive");
        require(
                context.ropeFactor() != null && context.ropeFactor() >= 1.0 && Double.isFinite(context.ropeFactor()),
                "context.ropeFactor=" + context.ropeFactor() + " must be a number >= 1");
        require(
                List.of("s2", "full", "short").contains(attention.pattern()),
                "attention.pattern '" + attention.pattern() + "' is unknown: use s2 or full");
        require(attention.groups() >= 1, "attention.groups=" + attention.groups() + " must be >= 1 (default 4)");
        if (!attention.pattern().equals("full")) {
            int l = context.targetLength();
            int g = attention.groups();
            require(
                    l % g == 0 && (l / g) % 2 == 0,
                    "context.targetLength=" + l + " does not split into attention.groups=" + g
                            + " groups of even size: choose a length divisible by " + 2 * g);
        }
        require(lora.rank() >= 0, "lora.rank=" + lora.rank() + " must be >= 0");
        require(lora.alpha() > 0, "lora.alpha=" + lora.alpha() + " must be positive");
        require(lora.dropout() >= 0 && lora.dropout() < 1, "lora.dropout=" + lora.dropout() + " must be in [0, 1)");
        require(training.maxSteps() >= 1, "training.maxSteps=" + training.maxSteps() + " must be >= 1");
        require(
                training.learningRate() > 0 && Double.isFinite(training.learningRate()),
                "training.learningRate=" + training.learningRate() + " must be a positive number");
        require(training.warmupSteps() >= 0, "training.warmupSteps=" + training.warmupSteps() + " must be >= 0");
        require(
                List.of("constant_with_warmup", "cosine").contains(training.schedule()),
                "training.schedule '" + training.schedule() + "' is unknown: use constant_with_warmup or cosine");
        require(
                training.microBatchSize() >= 1,
                "training.microBatchSize=" + training.microBatchSize() + " must be >= 1");
        require(
                training.gradientAccumulationSteps() >= 1,
                "training.gradientAccumulationSteps=" + training.gradientAccumulationSteps() + " must be >= 1");
        require(
                training.maxGradNorm() >= 0,
                "training.maxGradNorm=" + training.maxGradNorm() + " must be >= 0 (0 disables clipping)");
        require(training.weightDecay() >= 0, "training.weightDecay=" + training.weightDecay() + " must be >= 0");
        require(
                training.adamBeta1() >= 0 && training.adamBeta1() < 1,
                "training.adamBeta1=" + training.adamBeta1() + " must be in [0, 1)");
        require(
                training.adamBeta2() >= 0 && training.adamBeta2() < 1,
                "training.adamBeta2=" + training.adamBeta2() + " must be in [0, 1)");
        require(training.adamEpsilon() > 0, "training.adamEpsilon=" + training.adamEpsilon() + " must be positive");
        require(
                List.of("fp32", "bf16").contains(training.precision()),
                "training.precision '" + training.precision() + "' is unknown: use fp32 or bf16");
        require(training.logEverySteps() >= 1, "training.logEverySteps=" + training.logEverySteps() + " must be >= 1");
        require(distributed.nodes() >= 1, "distributed.nodes=" + distributed.nodes() + " must be >= 1");
        require(
                distributed.gpusPerNode() >= 0 && distributed.gpusPerNode() <= 8,
                "distributed.gpusPerNode=" + distributed.gpusPerNode() + " must be 0..8 (0 = CPU only)");
        require(
                distributed.zeroStage() >= 0 && distributed.zeroStage() <= 3,
                "distributed.zeroStage=" + distributed.zeroStage() + " must be 0..3");
        require(checkpoint.everySteps() >= 1, "checkpoint.everySteps=" + checkpoint.everySteps() + " must be >= 1");
        require(checkpoint.keep() >= 1, "checkpoint.keep=" + checkpoint.keep() + " must be >= 1");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new ConfigException(message);
    }
}

package dev.longlora.operator.topology;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.longlora.operator.api.AttentionSpec;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.LoraSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.api.TrainingSpec;
import java.util.List;
import java.util.Objects;

/**
 * Fills every default of docs/contract.md section 4 into a job. The CRD carries the same defaults, so the API server
 * usually has filled them already; resolving again keeps the operator right for objects built in code or stored
 * before a default existed.
 */
public final class JobResolver {
    public static final int DEFAULT_MASTER_PORT = 29500;
    public static final String DEFAULT_STORAGE_SIZE = "100Gi";
    static final List<String> DEFAULT_TARGET_MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    private JobResolver() {}

    public static JobConfig resolve(LongLoRAJob job) {
        LongLoRAJobSpec s = Objects.requireNonNull(job.getSpec(), "spec");
        ModelSpec model = Objects.requireNonNull(s.model(), "spec.model");
        DatasetSpec data = Objects.requireNonNull(s.dataset(), "spec.dataset");
        ContextSpec ctx = Objects.requireNonNull(s.context(), "spec.context");
        AttentionSpec att = or(s.attention(), new AttentionSpec(null, null));
        LoraSpec lora = or(s.lora(), new LoraSpec(null, null, null, null, null, null));
        TrainingSpec t = or(
                s.training(),
                new TrainingSpec(null, null, null, null, null, null, null, null, null, null, null, null, null, null));
        DistributedSpec d = distributed(s);
        CheckpointSpec c = checkpoint(s);

        int original = or(ctx.originalLength(), 4096);
        int target = Objects.requireNonNull(ctx.targetLength(), "spec.context.targetLength");
        double rope = ctx.ropeFactor() != null ? ctx.ropeFactor() : Math.ceil((double) target / original);
        List<String> modules = lora.targetModules() == null
                        || lora.targetModules().isEmpty()
                ? DEFAULT_TARGET_MODULES
                : lora.targetModules().stream().map(m -> json(m, m)).distinct().toList();

        return new JobConfig(
                LongLoRAJob.API_VERSION,
                new JobConfig.Job(job.getMetadata().getName(), job.getMetadata().getNamespace()),
                new JobConfig.Model(model.path(), or(model.name(), model.path())),
                new JobConfig.Data(
                        data.path(),
                        json(data.format(), DatasetSpec.Format.BIN),
                        json(data.tokenDtype(), DatasetSpec.TokenDtype.UINT16)),
                new JobConfig.Context(original, target, rope),
                new JobConfig.Attention(json(att.pattern(), AttentionSpec.Pattern.S2), or(att.groups(), 4)),
                new JobConfig.Lora(
                        or(lora.rank(), 8),
                        or(lora.alpha(), 16.0),
                        or(lora.dropout(), 0.0),
                        modules,
                        or(lora.trainEmbeddings(), true),
                        or(lora.trainNorms(), true)),
                new JobConfig.Training(
                        or(t.maxSteps(), 1000),
                        or(t.learningRate(), 2.0e-5),
                        or(t.warmupSteps(), 20),
                        json(t.schedule(), TrainingSpec.Schedule.CONSTANT_WITH_WARMUP),
                        or(t.microBatchSize(), 1),
                        or(t.gradientAccumulationSteps(), 8),
                        or(t.maxGradNorm(), 1.0),
                        or(t.weightDecay(), 0.0),
                        or(t.adamBeta1(), 0.9),
                        or(t.adamBeta2(), 0.95),
                        or(t.adamEpsilon(), 1.0e-8),
                        json(t.precision(), TrainingSpec.Precision.BF16),
                        or(t.gradientCheckpointing(), true),
                        or(t.seed(), 42L)),
                new JobConfig.Distributed(d.nodes(), d.gpusPerNode(), d.zeroStage(), d.offloadOptimizer()),
                new JobConfig.Checkpoint(c.everySteps(), c.keep()));
    }

    /** spec.distributed with every field filled. */
    public static DistributedSpec distributed(LongLoRAJobSpec s) {
        DistributedSpec d = or(s.distributed(), new DistributedSpec(null, null, null, null, null));
        return new DistributedSpec(
                or(d.nodes(), 1),
                or(d.gpusPerNode(), 8),
                or(d.zeroStage(), 2),
                or(d.offloadOptimizer(), false),
                or(d.masterPort(), DEFAULT_MASTER_PORT));
    }

    /** spec.checkpoint with every field filled (claimName stays null when the operator creates the claim). */
    public static CheckpointSpec checkpoint(LongLoRAJobSpec s) {
        CheckpointSpec c = or(s.checkpoint(), new CheckpointSpec(null, null, null, null, null));
        CheckpointStorage st = or(c.storage(), new CheckpointStorage(null, null, null));
        return new CheckpointSpec(
                c.claimName(),
                new CheckpointStorage(
                        or(st.size(), DEFAULT_STORAGE_SIZE),
                        st.storageClassName(),
                        or(st.accessMode(), CheckpointStorage.AccessMode.ReadWriteOnce)),
                or(c.everySteps(), 100),
                or(c.keep(), 3),
                or(c.deleteWithJob(), false));
    }

    public static boolean suspended(LongLoRAJobSpec s) {
        return Boolean.TRUE.equals(s.suspend());
    }

    public static int backoffLimit(LongLoRAJobSpec s) {
        return or(s.backoffLimit(), 3);
    }

    static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /** The JSON spelling of an enum constant (its @JsonProperty), so job.json uses the API's words. */
    static <E extends Enum<E>> String json(E value, E fallback) {
        E e = or(value, fallback);
        try {
            JsonProperty p = e.getDeclaringClass().getField(e.name()).getAnnotation(JsonProperty.class);
            return p != null ? p.value() : e.name();
        } catch (NoSuchFieldException ex) {
            throw new IllegalStateException(ex);
        }
    }
}

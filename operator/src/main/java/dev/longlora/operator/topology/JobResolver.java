package dev.longlora.operator.topology;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.longlora.contract.ApiNames;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.operator.api.AttentionSpec;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.EvaluationSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.LoraSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.api.OutputSpec;
import dev.longlora.operator.api.TrainingSpec;
import java.util.Objects;

/**
 * Turns a job's spec into the contract's job.json ({@link JobConfig}). Every field the spec leaves unset is passed on
 * as null, so the contract fills in its default: the defaults live in one place. The CRD carries the same defaults
 * for the API server (a test keeps them equal), so usually they are already filled; resolving again keeps the
 * operator right for objects built in code or stored before a default existed. Only what job.json does not carry
 * (the rendezvous port, the claim, the backoff limit) has its defaults here.
 */
public final class JobResolver {
    public static final String DEFAULT_STORAGE_SIZE = "100Gi";
    public static final int DEFAULT_BACKOFF_LIMIT = 3;
    /** spec.terminationGracePeriodSeconds when unset: one long step plus one checkpoint save (docs/api.md). */
    public static final long DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 600;

    private JobResolver() {}

    public static JobConfig resolve(LongLoRAJob job) {
        LongLoRAJobSpec s = Objects.requireNonNull(job.getSpec(), "spec");
        ModelSpec model = Objects.requireNonNull(s.model(), "spec.model");
        DatasetSpec data = Objects.requireNonNull(s.dataset(), "spec.dataset");
        ContextSpec ctx = Objects.requireNonNull(s.context(), "spec.context");
        Objects.requireNonNull(ctx.targetLength(), "spec.context.targetLength");
        AttentionSpec att = or(s.attention(), new AttentionSpec(null, null));
        LoraSpec lora = or(s.lora(), new LoraSpec(null, null, null, null, null, null));
        TrainingSpec t = or(
                s.training(),
                new TrainingSpec(
                        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null));
        DistributedSpec d = or(s.distributed(), new DistributedSpec(null, null, null, null, null, null, null));
        CheckpointSpec c = or(s.checkpoint(), new CheckpointSpec(null, null, null, null, null));
        OutputSpec out = or(s.output(), new OutputSpec(null));
        EvaluationSpec e = or(s.evaluation(), new EvaluationSpec(null, null, null, null, null, null));
        return new JobConfig(
                ApiNames.API_VERSION,
                new JobConfig.Job(job.getMetadata().getName(), job.getMetadata().getNamespace()),
                new JobConfig.Model(model.path(), model.name()),
                new JobConfig.Data(data.path(), json(data.format()), json(data.tokenDtype())),
                new JobConfig.Context(ctx.originalLength(), ctx.targetLength(), ctx.ropeFactor()),
                new JobConfig.Attention(json(att.pattern()), att.groups()),
                new JobConfig.Lora(
                        lora.rank(),
                        lora.alpha(),
                        lora.dropout(),
                        lora.targetModules() == null
                                ? null
                                : lora.targetModules().stream()
                                        .map(m -> json(m))
                                        .toList(),
                        lora.trainEmbeddings(),
                        lora.trainNorms()),
                new JobConfig.Training(
                        t.maxSteps(),
                        t.learningRate(),
                        t.warmupSteps(),
                        json(t.schedule()),
                        t.microBatchSize(),
                        t.gradientAccumulationSteps(),
                        t.maxGradNorm(),
                        t.weightDecay(),
                        t.adamBeta1(),
                        t.adamBeta2(),
                        t.adamEpsilon(),
                        json(t.precision()),
                        t.gradientCheckpointing(),
                        t.seed(),
                        null,
                        t.progressEverySeconds()),
                new JobConfig.Distributed(
                        d.nodes(),
                        d.gpusPerNode(),
                        d.zeroStage(),
                        d.offloadOptimizer(),
                        d.rendezvousTimeoutSeconds(),
                        d.collectiveTimeoutSeconds()),
                new JobConfig.Checkpoint(c.everySteps(), c.keep()),
                new JobConfig.Output(out.merge()),
                new JobConfig.Evaluation(
                        e.enabled(), e.lengths(), e.path(), e.heldOutFraction(), e.maxWindows(), e.passkeyTrials()));
    }

    /** spec.distributed with every field filled (job.json's defaults, and the rendezvous port). */
    public static DistributedSpec distributed(LongLoRAJobSpec s) {
        DistributedSpec d = or(s.distributed(), new DistributedSpec(null, null, null, null, null, null, null));
        JobConfig.Distributed filled = new JobConfig.Distributed(
                d.nodes(),
                d.gpusPerNode(),
                d.zeroStage(),
                d.offloadOptimizer(),
                d.rendezvousTimeoutSeconds(),
                d.collectiveTimeoutSeconds());
        return new DistributedSpec(
                filled.nodes(),
                filled.gpusPerNode(),
                filled.zeroStage(),
                filled.offloadOptimizer(),
                or(d.masterPort(), TrainerEnv.DEFAULT_MASTER_PORT),
                filled.rendezvousTimeoutSeconds(),
                filled.collectiveTimeoutSeconds());
    }

    /** spec.checkpoint with every field filled (claimName stays null when the operator creates the claim). */
    public static CheckpointSpec checkpoint(LongLoRAJobSpec s) {
        CheckpointSpec c = or(s.checkpoint(), new CheckpointSpec(null, null, null, null, null));
        CheckpointStorage st = or(c.storage(), new CheckpointStorage(null, null, null));
        JobConfig.Checkpoint filled = new JobConfig.Checkpoint(c.everySteps(), c.keep());
        return new CheckpointSpec(
                c.claimName(),
                new CheckpointStorage(
                        or(st.size(), DEFAULT_STORAGE_SIZE),
                        st.storageClassName(),
                        or(st.accessMode(), CheckpointStorage.AccessMode.ReadWriteOnce)),
                filled.everySteps(),
                filled.keep(),
                or(c.deleteWithJob(), false));
    }

    public static boolean suspended(LongLoRAJobSpec s) {
        return Boolean.TRUE.equals(s.suspend());
    }

    public static int backoffLimit(LongLoRAJobSpec s) {
        return or(s.backoffLimit(), DEFAULT_BACKOFF_LIMIT);
    }

    public static long terminationGracePeriodSeconds(LongLoRAJobSpec s) {
        return or(s.terminationGracePeriodSeconds(), DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }

    /** How long a new gang may take to its first reported step (docs/api.md: loading a 70B model). */
    public static final long DEFAULT_STARTUP_DEADLINE_SECONDS = 3600;

    public static long startupDeadlineSeconds(LongLoRAJobSpec s) {
        return or(s.startupDeadlineSeconds(), DEFAULT_STARTUP_DEADLINE_SECONDS);
    }

    static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /** The JSON spelling of an enum constant (its @JsonProperty), so job.json uses the API's words; null stays null. */
    static String json(Enum<?> e) {
        if (e == null) return null;
        try {
            JsonProperty p = e.getDeclaringClass().getField(e.name()).getAnnotation(JsonProperty.class);
            return p != null ? p.value() : e.name();
        } catch (NoSuchFieldException ex) {
            throw new IllegalStateException(ex);
        }
    }
}

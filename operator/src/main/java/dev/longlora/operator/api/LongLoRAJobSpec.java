package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/**
 * What to train and where. Blocks left out take the defaults of docs/contract.md section 4; the cross-field rules
 * below run in the API server at apply time (CEL), so a broken manifest is refused with the field named.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
        value = "self.context.targetLength % self.attention.groups == 0",
        message =
                "spec.context.targetLength must be divisible by spec.attention.groups (S2-Attn splits the context into "
                        + "equal groups); pick groups that divide the target length, e.g. 4",
        reason = "FieldValueInvalid",
        fieldPath = ".attention.groups")
@ValidationRule(
        value = "self.context.targetLength % self.attention.groups != 0 "
                + "|| (self.context.targetLength / self.attention.groups) % 2 == 0",
        message = "spec.context.targetLength / spec.attention.groups (the S2 group size) must be even, because half of "
                + "the heads shift by half a group; use a target length or group count that gives an even group size",
        reason = "FieldValueInvalid",
        fieldPath = ".attention.groups")
@ValidationRule(
        value = "self.context.targetLength > self.context.originalLength",
        message = "spec.context.targetLength must be greater than spec.context.originalLength (LongLoRA extends the "
                + "context); raise targetLength or lower originalLength",
        reason = "FieldValueInvalid",
        fieldPath = ".context.targetLength")
@ValidationRule(
        value = "self.distributed.nodes == 1 || has(self.checkpoint.claimName) "
                + "|| self.checkpoint.storage.accessMode == 'ReadWriteMany'",
        message =
                "spec.checkpoint.storage.accessMode must be ReadWriteMany when spec.distributed.nodes > 1 (every node "
                        + "writes its shard to the shared checkpoint volume); set accessMode: ReadWriteMany or name an existing "
                        + "ReadWriteMany claim in spec.checkpoint.claimName",
        reason = "FieldValueInvalid",
        fieldPath = ".checkpoint.storage.accessMode")
@ValidationRule(
        value = "oldSelf.suspend || (self.distributed.nodes == oldSelf.distributed.nodes "
                + "&& self.distributed.gpusPerNode == oldSelf.distributed.gpusPerNode)",
        message =
                "spec.distributed.nodes and spec.distributed.gpusPerNode (the world size) cannot change while the job "
                        + "runs, since checkpoints are sharded by rank; set spec.suspend: true first, then change them",
        reason = "FieldValueForbidden",
        fieldPath = ".distributed")
public record LongLoRAJobSpec(
        @Required @JsonPropertyDescription("The base model to extend.")
        ModelSpec model,

        @Required @JsonPropertyDescription("The training corpus.")
        DatasetSpec dataset,

        @Required @JsonPropertyDescription("Original and target context length (position interpolation).")
        ContextSpec context,

        @Default("{}") @JsonPropertyDescription("Attention pattern during training: S2-Attn (shifted sparse) or full.")
        AttentionSpec attention,

        @Default("{}") @JsonPropertyDescription("LoRA adapter, plus the trainable embeddings and norms of LongLoRA.")
        LoraSpec lora,

        @Default("{}") @JsonPropertyDescription("Optimiser and schedule.")
        TrainingSpec training,

        @Default("{}") @JsonPropertyDescription("Nodes, GPUs per node and ZeRO sharding.")
        DistributedSpec distributed,

        @Default("{}") @JsonPropertyDescription("Where checkpoints and outputs go, and how often.")
        CheckpointSpec checkpoint,

        @JsonPropertyDescription("Trainer image; the operator's configured default when unset.")
        String image,

        @JsonPropertyDescription("Image pull policy: Always, IfNotPresent or Never.")
        PullPolicy imagePullPolicy,

        @JsonPropertyDescription(
                "CPU and memory of the trainer container; nvidia.com/gpu is added from distributed.gpusPerNode.")
        ResourceRequirements resources,

        @JsonPropertyDescription("Node labels the pods must match.")
        Map<String, String> nodeSelector,

        @JsonPropertyDescription("Tolerations of the pods, e.g. for tainted GPU nodes.")
        List<Toleration> tolerations,

        @JsonPropertyDescription("Affinity of the pods.") Affinity affinity,

        @JsonPropertyDescription("PriorityClass of the pods.")
        String priorityClassName,

        @JsonPropertyDescription("Scheduler of the pods, e.g. a gang scheduler.")
        String schedulerName,

        @JsonPropertyDescription(
                "What clusters add to every pod: env, volumes, pull secrets, security context, extra devices.")
        PodTemplateOverlay podTemplate,

        @Default("false")
        @JsonPropertyDescription(
                "true removes the pods and keeps volume and status; false resumes from the latest checkpoint.")
        Boolean suspend,

        @Default("3")
        @Min(0)
        @Max(100)
        @JsonPropertyDescription("Gang restarts allowed after retryable failures before the job fails.")
        Integer backoffLimit,

        @Min(1)
        @JsonPropertyDescription("Seconds the job may run (counted from its last start or resume) before it fails.")
        Long activeDeadlineSeconds,

        @Min(0)
        @JsonPropertyDescription(
                "Seconds after success or failure before the job is deleted (its checkpoint claim stays unless checkpoint.deleteWithJob).")
        Integer ttlSecondsAfterFinished,

        @Min(1)
        @JsonPropertyDescription(
                "Seconds the running gang may go without rank 0's reported step advancing (timed by the operator's clock) before it counts as stalled and is restarted like a failed worker; unset: no stall detection.")
        Long progressDeadlineSeconds,

        @Default("3600")
        @Min(1)
        @JsonPropertyDescription(
                "With progressDeadlineSeconds: seconds a new gang may take to report its first step (model and data loading, resuming) before it counts as stalled; 3600 lets a 70B model load from network storage.")
        Long startupDeadlineSeconds,

        @Default("600")
        @Min(0)
        @JsonPropertyDescription(
                "Seconds a trainer pod gets between SIGTERM (suspend, preemption, eviction, drain) and SIGKILL: enough to finish the step in progress and save a checkpoint. Size it as the longest step (with gradient accumulation) plus one checkpoint save plus a margin; 600 covers a 7B adapter. Survivors of a failed worker are deleted at once regardless.")
        Long terminationGracePeriodSeconds,

        @Default("{}") @JsonPropertyDescription("What the job publishes besides the PEFT adapter.")
        OutputSpec output,

        @Default("{}")
        @JsonPropertyDescription(
                "Perplexity and passkey retrieval after training, on held-out text, reported in status.results.")
        EvaluationSpec evaluation) {

    /** The spec without startupDeadlineSeconds (its default then applies): the form written before it existed. */
    public LongLoRAJobSpec(
            ModelSpec model,
            DatasetSpec dataset,
            ContextSpec context,
            AttentionSpec attention,
            LoraSpec lora,
            TrainingSpec training,
            DistributedSpec distributed,
            CheckpointSpec checkpoint,
            String image,
            PullPolicy imagePullPolicy,
            ResourceRequirements resources,
            Map<String, String> nodeSelector,
            List<Toleration> tolerations,
            Affinity affinity,
            String priorityClassName,
            String schedulerName,
            PodTemplateOverlay podTemplate,
            Boolean suspend,
            Integer backoffLimit,
            Long activeDeadlineSeconds,
            Integer ttlSecondsAfterFinished,
            Long progressDeadlineSeconds,
            Long terminationGracePeriodSeconds,
            OutputSpec output,
            EvaluationSpec evaluation) {
        this(
                model,
                dataset,
                context,
                attention,
                lora,
                training,
                distributed,
                checkpoint,
                image,
                imagePullPolicy,
                resources,
                nodeSelector,
                tolerations,
                affinity,
                priorityClassName,
                schedulerName,
                podTemplate,
                suspend,
                backoffLimit,
                activeDeadlineSeconds,
                ttlSecondsAfterFinished,
                progressDeadlineSeconds,
                null,
                terminationGracePeriodSeconds,
                output,
                evaluation);
    }

    /** Image pull policy of the trainer container. */
    public enum PullPolicy {
        Always,
        IfNotPresent,
        Never
    }
}

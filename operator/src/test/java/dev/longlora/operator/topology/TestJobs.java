package dev.longlora.operator.topology;

import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.api.PodTemplateOverlay;

/** Jobs built in code for the unit tests. */
public final class TestJobs {
    public static final TopologySettings SETTINGS = new TopologySettings("longlora/trainer:test", "IfNotPresent");

    private TestJobs() {}

    public static LongLoRAJobSpec spec(int nodes, int gpusPerNode) {
        CheckpointSpec checkpoint = nodes > 1
                ? new CheckpointSpec(
                        null,
                        new CheckpointStorage("1Ti", "fast", CheckpointStorage.AccessMode.ReadWriteMany),
                        null,
                        null,
                        null)
                : null;
        return new LongLoRAJobSpec(
                new ModelSpec("/models/llama-2-7b", null, null),
                new DatasetSpec("/data/redpajama.bin", null, null),
                new ContextSpec(4096, 32768, null),
                null,
                null,
                null,
                new DistributedSpec(nodes, gpusPerNode, 3, null, null, null, null),
                checkpoint,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                2,
                null,
                null,
                null,
                null);
    }

    public static LongLoRAJob job(String name, LongLoRAJobSpec spec) {
        LongLoRAJob job = new LongLoRAJob("ml", name, spec);
        job.getMetadata().setUid("0000-uid-" + name);
        job.getMetadata().setGeneration(1L);
        return job;
    }

    public static LongLoRAJob job(int nodes, int gpusPerNode) {
        return job("llama", spec(nodes, gpusPerNode));
    }

    public static LongLoRAJobSpec withOverlay(LongLoRAJobSpec s, PodTemplateOverlay overlay) {
        return new LongLoRAJobSpec(
                s.model(),
                s.dataset(),
                s.context(),
                s.attention(),
                s.lora(),
                s.training(),
                s.distributed(),
                s.checkpoint(),
                s.image(),
                s.imagePullPolicy(),
                s.resources(),
                s.nodeSelector(),
                s.tolerations(),
                s.affinity(),
                s.priorityClassName(),
                s.schedulerName(),
                overlay,
                s.suspend(),
                s.backoffLimit(),
                s.activeDeadlineSeconds(),
                s.ttlSecondsAfterFinished(),
                s.progressDeadlineSeconds(),
                s.terminationGracePeriodSeconds());
    }

    public static LongLoRAJobSpec withProgressDeadline(LongLoRAJobSpec s, Long progressDeadline) {
        return new LongLoRAJobSpec(
                s.model(),
                s.dataset(),
                s.context(),
                s.attention(),
                s.lora(),
                s.training(),
                s.distributed(),
                s.checkpoint(),
                s.image(),
                s.imagePullPolicy(),
                s.resources(),
                s.nodeSelector(),
                s.tolerations(),
                s.affinity(),
                s.priorityClassName(),
                s.schedulerName(),
                s.podTemplate(),
                s.suspend(),
                s.backoffLimit(),
                s.activeDeadlineSeconds(),
                s.ttlSecondsAfterFinished(),
                progressDeadline,
                null);
    }

    public static LongLoRAJobSpec with(LongLoRAJobSpec s, Boolean suspend, Long deadline, Integer ttl) {
        return new LongLoRAJobSpec(
                s.model(),
                s.dataset(),
                s.context(),
                s.attention(),
                s.lora(),
                s.training(),
                s.distributed(),
                s.checkpoint(),
                s.image(),
                s.imagePullPolicy(),
                s.resources(),
                s.nodeSelector(),
                s.tolerations(),
                s.affinity(),
                s.priorityClassName(),
                s.schedulerName(),
                s.podTemplate(),
                suspend,
                s.backoffLimit(),
                deadline,
                ttl,
                s.progressDeadlineSeconds(),
                s.terminationGracePeriodSeconds());
    }

    public static LongLoRAJobSpec withImageAndGrace(LongLoRAJobSpec s, String image, Long gracePeriodSeconds) {
        return new LongLoRAJobSpec(
                s.model(),
                s.dataset(),
                s.context(),
                s.attention(),
                s.lora(),
                s.training(),
                s.distributed(),
                s.checkpoint(),
                image,
                s.imagePullPolicy(),
                s.resources(),
                s.nodeSelector(),
                s.tolerations(),
                s.affinity(),
                s.priorityClassName(),
                s.schedulerName(),
                s.podTemplate(),
                s.suspend(),
                s.backoffLimit(),
                s.activeDeadlineSeconds(),
                s.ttlSecondsAfterFinished(),
                s.progressDeadlineSeconds(),
                gracePeriodSeconds);
    }
}

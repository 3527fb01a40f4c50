package dev.longlora.operator.topology;

import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The CRD's rules again, in Java: the API server normally refuses a broken job first, but an old CRD or an object
 * built in code must not turn into broken pods either. Each message names the field and the fix.
 */
public final class SpecValidation {
    private SpecValidation() {}

    public static List<String> problems(LongLoRAJob job) {
        List<String> problems = new ArrayList<>();
        LongLoRAJobSpec s = job.getSpec();
        if (s == null) {
            return List.of("spec is missing: a LongLoRAJob needs spec.model, spec.dataset and spec.context");
        }
        if (s.model() == null || blank(s.model().path())) {
            problems.add("spec.model.path is required: a model directory in the pod or builtin:tiny");
        }
        if (s.dataset() == null || blank(s.dataset().path())) {
            problems.add("spec.dataset.path is required: a corpus file in the pod or builtin:synthetic");
        }
        String name = job.getMetadata().getName();
        DistributedSpec d = JobResolver.distributed(s);
        if (name == null || !name.matches("^[a-z]([-a-z0-9]*[a-z0-9])?$")) {
            problems.add(
                    "metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)");
        } else if (Names.pod(name, d.nodes() - 1).length() > 63) {
            problems.add("metadata.name is too long: pod name " + Names.pod(name, d.nodes() - 1)
                    + " exceeds 63 characters; shorten the name");
        }
        if (d.nodes() < 1) {
            problems.add("spec.distributed.nodes must be at least 1");
        }
        if (d.gpusPerNode() < 0 || d.gpusPerNode() > 8) {
            problems.add("spec.distributed.gpusPerNode must be in 0..8 (0 = CPU-only), got " + d.gpusPerNode());
        }
        if (d.zeroStage() < 0 || d.zeroStage() > 3) {
            problems.add("spec.distributed.zeroStage must be in 0..3, got " + d.zeroStage());
        }
        if (s.context() == null || s.context().targetLength() == null) {
            problems.add("spec.context.targetLength is required");
            return problems;
        }
        JobConfig c = JobResolver.resolve(job);
        int target = c.context().targetLength();
        int groups = c.attention().groups();
        if (groups < 1) {
            problems.add("spec.attention.groups must be at least 1");
        } else if (target % groups != 0) {
            problems.add("spec.context.targetLength (" + target + ") must be divisible by spec.attention.groups ("
                    + groups + "); pick groups that divide the target length");
        } else if ((target / groups) % 2 != 0) {
            problems.add("spec.context.targetLength / spec.attention.groups (the S2 group size, " + target / groups
                    + ") must be even; use a target length or group count that gives an even group size");
        }
        if (target <= c.context().originalLength()) {
            problems.add("spec.context.targetLength (" + target + ") must be greater than spec.context.originalLength ("
                    + c.context().originalLength() + ")");
        }
        CheckpointSpec cp = JobResolver.checkpoint(s);
        if (d.nodes() > 1
                && cp.claimName() == null
                && cp.storage().accessMode() != CheckpointStorage.AccessMode.ReadWriteMany) {
            problems.add(
                    "spec.checkpoint.storage.accessMode must be ReadWriteMany when spec.distributed.nodes > 1; set it "
                            + "or name an existing ReadWriteMany claim in spec.checkpoint.claimName");
        }
        return problems;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}

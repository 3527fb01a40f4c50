package dev.longlora.operator.topology;

import dev.longlora.contract.ConfigProblem;
import dev.longlora.contract.JobConfig;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The job's rules in Java: the API server normally refuses a broken job first (the CRD's CEL rules), but an old CRD
 * or an object built in code must not turn into broken pods either. The rules of job.json are the contract's
 * ({@link JobConfig#problems()}), named here by their spec paths; only the Kubernetes-side rules (names, the
 * claim's access mode, context extension) are the operator's own. Each message names the field and the fix.
 */
public final class SpecValidation {
    private SpecValidation() {}

    public static List<String> problems(LongLoRAJob job) {
        List<String> problems = new ArrayList<>();
        LongLoRAJobSpec s = job.getSpec();
        if (s == null) {
            return List.of("spec is missing: a LongLoRAJob needs spec.model, spec.dataset and spec.context");
        }
        String name = job.getMetadata().getName();
        DistributedSpec d = JobResolver.distributed(s);
        if (name == null || !name.matches("^[a-z]([-a-z0-9]*[a-z0-9])?$")) {
            problems.add(
                    "metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)");
        } else if (Names.pod(name, Math.max(0, d.nodes() - 1)).length() > 63) {
            problems.add("metadata.name is too long: pod name " + Names.pod(name, d.nodes() - 1)
                    + " exceeds 63 characters; shorten the name");
        }
        boolean incomplete = false;
        if (s.model() == null) {
            problems.add("spec.model is required: spec.model.path names the model");
            incomplete = true;
        }
        if (s.dataset() == null) {
            problems.add("spec.dataset is required: spec.dataset.path names the corpus");
            incomplete = true;
        }
        if (s.context() == null || s.context().targetLength() == null) {
            problems.add("spec.context.targetLength is required: the context length to train at");
            incomplete = true;
        }
        if (incomplete) return problems; // the contract's rules need these to resolve the job at all
        JobConfig c = JobResolver.resolve(job);
        for (ConfigProblem p : c.problems()) problems.add(p.render(SpecValidation::specPath));
        int target = c.context().targetLength();
        if (target <= c.context().originalLength()) {
            problems.add("spec.context.targetLength (" + target + ") must be greater than spec.context.originalLength ("
                    + c.context().originalLength() + "): LongLoRA extends the context");
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

    /** A job.json field path as the job's spec spells it ({@code data} is {@code spec.dataset}). */
    static String specPath(String field) {
        if (field.equals("data") || field.startsWith("data.")) return "spec.dataset" + field.substring(4);
        if (field.equals("apiVersion")) return "apiVersion";
        return "spec." + field;
    }
}

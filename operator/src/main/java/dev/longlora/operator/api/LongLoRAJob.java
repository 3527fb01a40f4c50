package dev.longlora.operator.api;

import dev.longlora.contract.ApiNames;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A LongLoRA fine-tuning job: one pod per node, each running one trainer rank per GPU (docs/contract.md).
 * The name-length rules keep every derived name ({@code <job>-node-<i>} pods, the headless Service) a valid
 * DNS label.
 */
@Group(LongLoRAJob.GROUP)
@Version(LongLoRAJob.VERSION)
@Kind("LongLoRAJob")
@Plural("longlorajobs")
@Singular("longlorajob")
@ShortNames("llj")
@AdditionalPrinterColumn(name = "Phase", type = Type.STRING, jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "Nodes", type = Type.INTEGER, jsonPath = ".spec.distributed.nodes")
@AdditionalPrinterColumn(
        name = "GPUs",
        type = Type.INTEGER,
        jsonPath = ".spec.distributed.gpusPerNode",
        getDescription = "GPUs per node (0 = CPU-only)")
@AdditionalPrinterColumn(name = "Restarts", type = Type.INTEGER, jsonPath = ".status.restarts")
@AdditionalPrinterColumn(name = "Step", type = Type.INTEGER, jsonPath = ".status.progress.step")
@AdditionalPrinterColumn(name = "Loss", type = Type.NUMBER, jsonPath = ".status.progress.loss")
@AdditionalPrinterColumn(name = "Tok/s", type = Type.NUMBER, jsonPath = ".status.progress.tokensPerSecond")
@AdditionalPrinterColumn(
        name = "PPL",
        type = Type.NUMBER,
        jsonPath = ".status.results.targetPerplexity",
        getDescription = "perplexity at the target context length, on held-out text, once the job succeeded")
@AdditionalPrinterColumn(name = "Age", type = Type.DATE, jsonPath = ".metadata.creationTimestamp")
@ValidationRule(
        value = "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
        message =
                "metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter): "
                        + "it names the job's headless Service",
        reason = "FieldValueInvalid")
@ValidationRule(
        value = "!has(self.spec) || "
                + "size(self.metadata.name) + 6 + size(string(self.spec.distributed.nodes - 1)) <= 63",
        message = "metadata.name is too long: pod names '<name>-node-<index>' must fit 63 characters; "
                + "shorten the name (at most 56 characters for up to 10 nodes, 55 for up to 100)",
        reason = "FieldValueInvalid")
public class LongLoRAJob extends CustomResource<LongLoRAJobSpec, LongLoRAJobStatus> implements Namespaced {
    public static final String GROUP = ApiNames.GROUP;
    public static final String VERSION = ApiNames.VERSION;

    public LongLoRAJob() {}

    public LongLoRAJob(String namespace, String name, LongLoRAJobSpec spec) {
        getMetadata().setNamespace(namespace);
        getMetadata().setName(name);
        setSpec(spec);
    }
}

package dev.longlora.operator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.operator.it.RepositoryLayout;
import dev.longlora.operator.topology.JobResolver;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CRD repeats job.json's defaults for the API server (it fills them on apply); the contract holds the real ones.
 * Every default in the generated CRD must equal the contract's default for the same field, or, for a field job.json
 * does not carry, the operator's own default: a default changed on one side only fails here.
 */
class CrdDefaultsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyCrdDefaultIsTheContractsDefault() throws Exception {
        JsonNode crd = new YAMLMapper()
                .readTree(Files.readString(RepositoryLayout.crds().resolve("longlorajobs.longlora.dev-v1.yml")));
        JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
        Map<String, JsonNode> defaults = new LinkedHashMap<>();
        collect(spec, "spec", defaults);
        assertTrue(defaults.size() >= 30, "found only " + defaults.keySet());

        JsonNode contract = JobConfigJson.tree(JobConfig.defaults());
        Map<String, JsonNode> operatorOnly = operatorDefaults();
        int compared = 0;
        for (Map.Entry<String, JsonNode> d : defaults.entrySet()) {
            String path = d.getKey();
            JsonNode expected = operatorOnly.containsKey(path)
                    ? operatorOnly.get(path)
                    : contract.at("/" + jobJsonPath(path).replace('.', '/'));
            if (expected.isMissingNode()) {
                fail("CRD default " + path + "=" + d.getValue() + " has no counterpart in job.json (contract) or in"
                        + " the operator's defaults");
            }
            assertTrue(
                    sameValue(expected, d.getValue()),
                    path + ": CRD default " + d.getValue() + " but the contract says " + expected);
            compared++;
        }
        assertEquals(defaults.size(), compared);
    }

    /** Defaults of fields outside job.json, as the operator resolves an empty spec. */
    private static Map<String, JsonNode> operatorDefaults() {
        LongLoRAJobSpec empty = new LongLoRAJobSpec(
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null);
        DistributedSpec d = JobResolver.distributed(empty);
        CheckpointSpec c = JobResolver.checkpoint(empty);
        Map<String, JsonNode> m = new LinkedHashMap<>();
        m.put("spec.distributed.masterPort", JSON.valueToTree(d.masterPort()));
        assertEquals(TrainerEnv.DEFAULT_MASTER_PORT, d.masterPort());
        m.put("spec.checkpoint.storage.size", JSON.valueToTree(c.storage().size()));
        m.put("spec.checkpoint.storage.accessMode", JSON.valueToTree(c.storage().accessMode()));
        m.put("spec.checkpoint.deleteWithJob", JSON.valueToTree(c.deleteWithJob()));
        m.put("spec.backoffLimit", JSON.valueToTree(JobResolver.backoffLimit(empty)));
        m.put("spec.suspend", JSON.valueToTree(JobResolver.suspended(empty)));
        m.put("spec.terminationGracePeriodSeconds", JSON.valueToTree(JobResolver.terminationGracePeriodSeconds(empty)));
        m.put("spec.startupDeadlineSeconds", JSON.valueToTree(JobResolver.startupDeadlineSeconds(empty)));
        // Not in job.json: the trainer implements one architecture.
        m.put("spec.model.architecture", JSON.valueToTree(ModelSpec.Architecture.LLAMA));
        return m;
    }

    /** spec.dataset is job.json's data; every other section keeps its name. */
    private static String jobJsonPath(String specPath) {
        String p = specPath.substring("spec.".length());
        return p.startsWith("dataset.") ? "data." + p.substring("dataset.".length()) : p;
    }

    private static void collect(JsonNode schema, String path, Map<String, JsonNode> out) {
        JsonNode def = schema.get("default");
        if (def != null && def.isValueNode()) out.put(path, def);
        JsonNode props = schema.get("properties");
        if (props != null) props.properties().forEach(e -> collect(e.getValue(), path + "." + e.getKey(), out));
    }

    private static boolean sameValue(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        return a.asText().equals(b.asText()) && a.getNodeType() == b.getNodeType();
    }
}

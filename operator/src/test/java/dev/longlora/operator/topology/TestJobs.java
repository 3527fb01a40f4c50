package dev.longlora.operator.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.CheckpointStorage;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.DistributedSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.api.PodTemplateOverlay;
import java.util.HashMap;
import java.util.Map;

/** Jobs built in code for the unit tests. */
public final class TestJobs {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        return withFields(s, nullable("podTemplate", overlay));
    }

    public static LongLoRAJobSpec withProgressDeadline(LongLoRAJobSpec s, Long progressDeadline) {
        return withFields(s, nullable("progressDeadlineSeconds", progressDeadline));
    }

    public static LongLoRAJobSpec withStallDeadlines(LongLoRAJobSpec s, Long progressDeadline, Long startupDeadline) {
        Map<String, Object> fields = new HashMap<>();
        fields.put("progressDeadlineSeconds", progressDeadline);
        fields.put("startupDeadlineSeconds", startupDeadline);
        return withFields(s, fields);
    }

    public static LongLoRAJobSpec with(LongLoRAJobSpec s, Boolean suspend, Long deadline, Integer ttl) {
        Map<String, Object> fields = new HashMap<>();
        fields.put("suspend", suspend);
        fields.put("activeDeadlineSeconds", deadline);
        fields.put("ttlSecondsAfterFinished", ttl);
        return withFields(s, fields);
    }

    public static LongLoRAJobSpec withImageAndGrace(LongLoRAJobSpec s, String image, Long gracePeriodSeconds) {
        Map<String, Object> fields = new HashMap<>();
        fields.put("image", image);
        fields.put("terminationGracePeriodSeconds", gracePeriodSeconds);
        return withFields(s, fields);
    }

    /**
     * The spec with some top-level fields replaced (null clears one). Records have no withers, and a hand-written
     * copy of a 23-argument constructor per test need silently dropped fields that were added later; through JSON
     * every other field is kept.
     */
    public static LongLoRAJobSpec withFields(LongLoRAJobSpec s, Map<String, Object> fields) {
        ObjectNode tree = JSON.valueToTree(s);
        fields.forEach((name, value) -> tree.set(name, JSON.valueToTree(value)));
        try {
            return JSON.treeToValue(tree, LongLoRAJobSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("not a LongLoRAJobSpec: " + tree, e);
        }
    }

    private static Map<String, Object> nullable(String name, Object value) {
        Map<String, Object> m = new HashMap<>();
        m.put(name, value);
        return m;
    }
}

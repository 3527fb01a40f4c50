package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.contract.ContractDocument;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import dev.longlora.operator.api.OutputSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobConfigTest {
    static final String CONTRACT_EXAMPLE = ContractDocument.jobJsonExample();

    @Test
    void minimalJobResolvesToTheContractExampleKeyForKey() throws Exception {
        LongLoRAJobSpec spec = new LongLoRAJobSpec(
                new ModelSpec("/models/llama-2-7b", "meta-llama/Llama-2-7b-hf", null),
                new DatasetSpec("/data/redpajama.bin", null, null),
                new ContextSpec(null, 32768, null),
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
                new OutputSpec(true), // the example merges
                null);
        LongLoRAJob job = TestJobs.job("llama2-7b-32k", spec);
        String json =
                new JobTopology(job, TestJobs.SETTINGS).configMap().getData().get("job.json");
        ObjectMapper mapper = new ObjectMapper();
        JsonNode actual = mapper.readTree(json);
        JsonNode expected = mapper.readTree(CONTRACT_EXAMPLE);
        assertEquals(paths(expected, ""), paths(actual, ""), "job.json keys and key order must be the contract's");
        // Values equal, numbers by value (the contract writes alpha as 16, Jackson as 16.0).
        assertTrue(
                expected.equals(
                        (a, b) -> a.isNumber() && b.isNumber()
                                ? a.decimalValue().compareTo(b.decimalValue())
                                : a.equals(b) ? 0 : 1,
                        actual),
                actual.toPrettyString());
    }

    @Test
    void ropeFactorRoundsUpTheContextRatio() {
        LongLoRAJobSpec spec = new LongLoRAJobSpec(
                new ModelSpec("builtin:tiny", null, null),
                new DatasetSpec("builtin:synthetic", null, null),
                new ContextSpec(4096, 10000, null),
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
                null,
                null);
        assertEquals(3.0, JobResolver.resolve(TestJobs.job("t", spec)).context().ropeFactor());
    }

    @Test
    void jobJsonRoundTripsThroughTheTrainersReader() {
        JobConfig config = JobResolver.resolve(TestJobs.job(4, 8));
        assertEquals(config, JobConfigJson.parse(JobConfigJson.write(config)));
        assertEquals(32, config.worldSize());
    }

    static List<String> paths(JsonNode node, String prefix) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(name -> {
            out.add(prefix + name);
            if (node.get(name).isObject()) {
                out.addAll(paths(node.get(name), prefix + name + "."));
            }
        });
        return out;
    }
}

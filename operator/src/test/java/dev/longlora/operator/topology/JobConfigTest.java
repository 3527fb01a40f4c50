package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.operator.api.ContextSpec;
import dev.longlora.operator.api.DatasetSpec;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobConfigTest {
  /** The example of docs/contract.md section 4, whose values are the defaults. */
  static final String CONTRACT_EXAMPLE = """
      {
        "apiVersion": "longlora.dev/v1alpha1",
        "job": {"name": "llama2-7b-32k", "namespace": "ml"},
        "model": {"path": "/models/llama-2-7b", "name": "meta-llama/Llama-2-7b-hf"},
        "data": {"path": "/data/redpajama.bin", "format": "bin", "tokenDtype": "uint16"},
        "context": {"originalLength": 4096, "targetLength": 32768, "ropeFactor": 8.0},
        "attention": {"pattern": "s2", "groups": 4},
        "lora": {"rank": 8, "alpha": 16, "dropout": 0.0,
                 "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj"],
                 "trainEmbeddings": true, "trainNorms": true},
        "training": {"maxSteps": 1000, "learningRate": 2.0e-5, "warmupSteps": 20,
                     "schedule": "constant_with_warmup", "microBatchSize": 1, "gradientAccumulationSteps": 8,
                     "maxGradNorm": 1.0, "weightDecay": 0.0, "adamBeta1": 0.9, "adamBeta2": 0.95, "adamEpsilon": 1.0e-8,
                     "precision": "bf16", "gradientCheckpointing": true, "seed": 42},
        "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 2, "offloadOptimizer": false},
        "checkpoint": {"everySteps": 100, "keep": 3}
      }
      """;

  @Test
  void minimalJobResolvesToTheContractExampleKeyForKey() throws Exception {
    LongLoRAJobSpec spec = new LongLoRAJobSpec(new ModelSpec("/models/llama-2-7b", "meta-llama/Llama-2-7b-hf", null),
        new DatasetSpec("/data/redpajama.bin", null, null), new ContextSpec(null, 32768, null), null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    LongLoRAJob job = TestJobs.job("llama2-7b-32k", spec);
    String json = new JobTopology(job, TestJobs.SETTINGS).configMap().getData().get("job.json");
    ObjectMapper mapper = new ObjectMapper();
    JsonNode actual = mapper.readTree(json);
    JsonNode expected = mapper.readTree(CONTRACT_EXAMPLE);
    assertEquals(paths(expected, ""), paths(actual, ""), "job.json keys and key order must be the contract's");
    // Values equal, numbers by value (the contract writes alpha as 16, Jackson as 16.0).
    assertTrue(expected.equals((a, b) -> a.isNumber() && b.isNumber()
        ? a.decimalValue().compareTo(b.decimalValue()) : a.equals(b) ? 0 : 1, actual), actual.toPrettyString());
  }

  @Test
  void ropeFactorRoundsUpTheContextRatio() {
    LongLoRAJobSpec spec = new LongLoRAJobSpec(new ModelSpec("builtin:tiny", null, null),
        new DatasetSpec("builtin:synthetic", null, null), new ContextSpec(4096, 10000, null), null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    assertEquals(3.0, JobResolver.resolve(TestJobs.job("t", spec)).context().ropeFactor());
  }

  @Test
  void jobJsonRoundTripsThroughTheTrainersReader() {
    JobConfig config = JobResolver.resolve(TestJobs.job(4, 8));
    assertEquals(config, JobConfigJson.read(JobConfigJson.write(config)));
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

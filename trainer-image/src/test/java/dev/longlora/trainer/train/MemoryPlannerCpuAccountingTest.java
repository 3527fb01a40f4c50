package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.MemoryPlan;
import dev.longlora.contract.MemoryPlanner;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The memory planner's CPU plan against what the CPU backend accounts over a real training step (model, AdamW,
 * forward, fused loss, backward, update) on small configs: within 5% each, so the planner counts the trainer's own
 * tensors. The GPU plan uses the same counts with its dtypes, sharding and the CUDA kernels' scratch.
 */
class MemoryPlannerCpuAccountingTest {

    private record Case(String name, LlamaConfig model, String job) {}

    private static final List<Case> CASES = List.of(
            new Case(
                    "LongLoRA defaults, GQA, checkpointing on",
                    new LlamaConfig(1000, 64, 176, 3, 4, 2, 1e-5, 10000.0, 512, 2.0, false),
                    """
                    {"context": {"originalLength": 256, "targetLength": 512}}"""),
            new Case("checkpointing off", new LlamaConfig(1000, 64, 176, 3, 4, 2, 1e-5, 10000.0, 512, 2.0, false), """
                    {"context": {"originalLength": 256, "targetLength": 512},
                     "training": {"gradientCheckpointing": false}}"""),
            new Case(
                    "LoRA on every linear layer with dropout, tied embeddings, short context",
                    new LlamaConfig(3000, 96, 256, 2, 6, 6, 1e-5, 10000.0, 256, 1.0, true),
                    """
                    {"context": {"originalLength": 128, "targetLength": 128},
                     "lora": {"rank": 4, "dropout": 0.1,
                              "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"]}}"""),
            new Case(
                    "plain LoRA (frozen embeddings and norms), full attention, long context for the model",
                    new LlamaConfig(800, 32, 88, 2, 4, 1, 1e-5, 10000.0, 1024, 4.0, false),
                    """
                    {"context": {"originalLength": 256, "targetLength": 1024},
                     "attention": {"pattern": "full"},
                     "lora": {"trainEmbeddings": false, "trainNorms": false}}"""));

    @Test
    void cpuPlanIsWithinFivePercentOfTheBackendsAccounting() throws IOException {
        StringBuilder report = new StringBuilder();
        for (Case c : CASES) {
            JobConfig job = JobConfigJson.parse("""
                    {"model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic"},
                     "distributed": {"nodes": 1, "gpusPerNode": 0, "zeroStage": 0}}""").validate();
            job = merged(job, c.job);
            MemoryPlan plan = MemoryPlanner.plan(job, c.model.shape(), MemoryPlanner.Device.CPU, false);
            long measured = measure(c.model, job);
            double ratio = plan.perGpuBytes() / (double) measured;
            report.append(String.format(
                    Locale.ROOT,
                    "%s: plan %d, accounted %d bytes (%.4f)%n",
                    c.name,
                    plan.perGpuBytes(),
                    measured,
                    ratio));
            assertTrue(Math.abs(ratio - 1) <= 0.05, c.name + ": " + report + plan.termBytes());
        }
        System.out.print(report);
    }

    /** The job with the case's fields over it. */
    private static JobConfig merged(JobConfig base, String overlay) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode tree = (ObjectNode) mapper.readTree(JobConfigJson.write(base));
        mapper.readTree(overlay)
                .properties()
                .forEach(e -> ((ObjectNode) tree.get(e.getKey())).setAll((ObjectNode) e.getValue()));
        return JobConfigJson.parse(mapper.writeValueAsString(tree)).validate();
    }

    /** The backend's peak over building the model and its optimizer and one training step. */
    private static long measure(LlamaConfig config, JobConfig job) {
        JobConfig.Lora l = job.lora();
        LoraConfig lora = new LoraConfig(
                l.rank(), l.alpha(), l.dropout(), l.targetModules(), l.trainEmbeddings(), l.trainNorms(), false);
        int tokens = job.context().targetLength();
        try (CpuBackend backend = new CpuBackend(2);
                LlamaModel model = new LlamaModel(config, lora, backend, 1)) {
            model.setGradientCheckpointing(job.training().gradientCheckpointing());
            try (Trainer trainer =
                    new Trainer(model, AdamWConfig.longLora(), LrSchedule.constantWithWarmup(1e-3, 0), 1.0)) {
                SplittableRandom rng = new SplittableRandom(3);
                int[] ids = new int[tokens];
                for (int i = 0; i < tokens; i++) {
                    ids[i] = rng.nextInt(config.vocabSize());
                }
                AttentionSpec attention = AttentionSpec.parse(
                        job.attention().pattern(), job.attention().groups());
                trainer.step(List.of(Trainer.Sample.of(ids)), attention);
                return backend.peakBytes();
            }
        }
    }
}

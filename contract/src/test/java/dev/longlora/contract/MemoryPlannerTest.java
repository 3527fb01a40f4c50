package dev.longlora.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The memory planner against the LongLoRA paper's per-GPU figures (LLaMA-2 7B, 8 A100s, FlashAttention-2, ZeRO-2,
 * bf16, gradient checkpointing) and the rules each term follows. The trainer's {@code MemoryPlannerCpuAccountingTest}
 * checks the counts against real tensors.
 */
class MemoryPlannerTest {
    private static final ModelShape LLAMA2_7B =
            ModelShape.known("meta-llama/Llama-2-7b-hf").orElseThrow();
    private static final ModelShape LLAMA2_70B =
            ModelShape.known("meta-llama/Llama-2-70b-hf").orElseThrow();

    private static JobConfig job(String fields) {
        return JobConfigJson.parse("""
                {"model": {"path": "/models/m"}, "data": {"path": "/data/d"}, %s}""".formatted(fields)).validate();
    }

    private static JobConfig paperJob(int tokens, boolean longLora) {
        return job("""
                "context": {"originalLength": 4096, "targetLength": %d},
                "attention": {"pattern": "%s"},
                "lora": {"rank": 8, "trainEmbeddings": %s, "trainNorms": %s},
                "training": {"precision": "bf16", "gradientCheckpointing": true},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 2}""".formatted(tokens, longLora ? "s2" : "full", longLora, longLora));
    }

    private record PaperFigure(String what, int tokens, boolean longLora, boolean full, double gigabytes) {}

    /** Paper Table 12 and section 4 (GB = 10^9 bytes, as PyTorch's memory reports print them). */
    private static final List<PaperFigure> PAPER = List.of(
            new PaperFigure("LongLoRA 32k", 32768, true, false, 46.4),
            new PaperFigure("LongLoRA 64k", 65536, true, false, 69.8),
            new PaperFigure("plain LoRA 32k", 32768, false, false, 46.5),
            new PaperFigure("plain LoRA 64k", 65536, false, false, 71.1),
            new PaperFigure("full fine-tuning 32k", 32768, true, true, 68.8));

    @Test
    void paperFiguresDifferByTheUnfusedLossAndNotMuchElse() {
        StringBuilder report = new StringBuilder();
        for (PaperFigure f : PAPER) {
            MemoryPlan plan =
                    MemoryPlanner.plan(paperJob(f.tokens, f.longLora), LLAMA2_7B, MemoryPlanner.Device.GPU, f.full);
            double ours = plan.perGpuBytes() / 1e9;
            // The paper's HF model materialises the [T, V] logits in fp32 and their gradient: 8 bytes per entry that
            // the fused LM head never holds.
            double unfusedLoss = 8.0 * f.tokens * LLAMA2_7B.vocabSize() / 1e9;
            double withLoss = ours + unfusedLoss;
            report.append(String.format(
                    Locale.ROOT,
                    "%s: paper %.1f GB, plan %.1f GB, plan + unfused loss %.1f GB (%+.1f%%)%n",
                    f.what,
                    f.gigabytes,
                    ours,
                    withLoss,
                    100 * (withLoss / f.gigabytes - 1)));
            assertTrue(ours < f.gigabytes, report.toString());
            // LoRA runs: within 8% once the loss is counted the paper's way; full fine-tuning within 15% (DeepSpeed
            // keeps more gradient buffers than a plain ZeRO-2 shard, docs/trainer.md).
            assertTrue(Math.abs(withLoss / f.gigabytes - 1) < (f.full ? 0.15 : 0.08), report.toString());
        }
        System.out.print(report);
    }

    @Test
    void s2CostsWhatFullAttentionCostsAndTheShapeOfTheCurveHolds() {
        JobConfig s2 = paperJob(32768, true);
        JobConfig full = job("""
                "context": {"originalLength": 4096, "targetLength": 32768}, "attention": {"pattern": "full"},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 2}""");
        assertEquals(
                MemoryPlanner.plan(s2, LLAMA2_7B).perGpuBytes(),
                MemoryPlanner.plan(full, LLAMA2_7B).perGpuBytes(),
                "S2 and full attention run the same O(T) kernels");
        long at32 = MemoryPlanner.plan(paperJob(32768, true), LLAMA2_7B)
                .term("layerInputs")
                .bytes();
        long at64 = MemoryPlanner.plan(paperJob(65536, true), LLAMA2_7B)
                .term("layerInputs")
                .bytes();
        assertEquals(2 * at32, at64, "activations are linear in the tokens");
        long loss32 = MemoryPlanner.plan(paperJob(32768, true), LLAMA2_7B)
                .term("lossBuffer")
                .bytes();
        assertTrue(loss32 < 300_000_000L, "the fused loss buffer stays near 256 MiB: " + loss32);
    }

    @Test
    void zeroStagesOffloadAndCheckpointingMoveTheRightTerms() {
        String base = """
                "context": {"originalLength": 4096, "targetLength": 32768},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": %d, "offloadOptimizer": %s},
                "training": {"gradientCheckpointing": %s}""";
        MemoryPlan z0 = MemoryPlanner.plan(job(base.formatted(0, false, true)), LLAMA2_7B);
        MemoryPlan z1 = MemoryPlanner.plan(job(base.formatted(1, false, true)), LLAMA2_7B);
        MemoryPlan z2 = MemoryPlanner.plan(job(base.formatted(2, false, true)), LLAMA2_7B);
        MemoryPlan z3 = MemoryPlanner.plan(job(base.formatted(3, false, true)), LLAMA2_7B);
        MemoryPlan offload = MemoryPlanner.plan(job(base.formatted(2, true, true)), LLAMA2_7B);
        MemoryPlan noCkpt = MemoryPlanner.plan(job(base.formatted(2, false, false)), LLAMA2_7B);
        long opt = z0.term("optimizerState").bytes();
        assertEquals(opt / 8, z1.term("optimizerState").bytes(), "stage 1 shards the optimizer over 8 ranks");
        assertEquals(z0.term("gradients").bytes(), z1.term("gradients").bytes());
        assertEquals(z0.term("gradients").bytes() / 8, z2.term("gradients").bytes(), "stage 2 shards gradients");
        assertEquals(z0.term("frozenWeights").bytes(), z2.term("frozenWeights").bytes());
        assertEquals(
                z0.term("frozenWeights").bytes() / 8, z3.term("frozenWeights").bytes(), "stage 3: weights");
        assertTrue(z3.term("commBuffers").bytes() > z2.term("commBuffers").bytes(), "stage 3 gathers layers");
        assertEquals(0, offload.term("optimizerState").bytes());
        assertEquals(
                32 * z2.term("layerActivations").bytes(),
                noCkpt.term("layerActivations").bytes(),
                "without checkpointing every one of the 32 layers keeps its activations");
        assertEquals(
                z2.perGpuBytes(),
                z2.termBytes().values().stream().mapToLong(Long::longValue).sum());
        // fp32 doubles the weights and activations; bf16's fp32 master copies sit in the optimizer state
        MemoryPlan fp32 = MemoryPlanner.plan(
                job(base.formatted(2, false, true).replace("\"gradientCheckpointing\": true", """
                        "gradientCheckpointing": true, "precision": "fp32\"""")), LLAMA2_7B);
        assertEquals(
                2 * z2.term("frozenWeights").bytes(), fp32.term("frozenWeights").bytes());
        assertEquals(
                2 * z2.term("layerInputs").bytes(), fp32.term("layerInputs").bytes());
        assertEquals(
                z2.term("optimizerState").bytes() * 8 / 12,
                fp32.term("optimizerState").bytes());
    }

    @Test
    void theExamplesGetAVerdictFor80GbCards() {
        long card = ByteSize.parse("80GB", "--gpu-memory");
        JobConfig sevenB = job("""
                "context": {"originalLength": 4096, "targetLength": 32768},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 2}""");
        String v7 = MemoryPlanner.verdict(MemoryPlanner.plan(sevenB, LLAMA2_7B), card, sevenB);
        assertTrue(v7.startsWith("fits: "), v7);
        JobConfig seventyB = job("""
                "context": {"originalLength": 4096, "targetLength": 32768},
                "training": {"gradientAccumulationSteps": 4},
                "distributed": {"nodes": 4, "gpusPerNode": 8, "zeroStage": 3}""");
        MemoryPlan p70 = MemoryPlanner.plan(seventyB, LLAMA2_70B);
        String v70 = MemoryPlanner.verdict(p70, card, seventyB);
        assertTrue(v70.startsWith(p70.fits(card) ? "fits: " : "does not fit: "), v70);
        System.out.println("7B/32k: " + v7 + "\n70B/32k: " + v70 + "\n" + p70.termBytes());
    }

    @Test
    void aJobThatDoesNotFitNamesItsLargestTermAndTheFix() {
        JobConfig noCkpt = job("""
                "context": {"originalLength": 4096, "targetLength": 32768},
                "training": {"gradientCheckpointing": false},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 2}""");
        MemoryPlan plan = MemoryPlanner.plan(noCkpt, LLAMA2_7B);
        String v = MemoryPlanner.verdict(plan, ByteSize.parse("80GiB", "x"), noCkpt);
        assertTrue(v.startsWith("does not fit: "), v);
        assertEquals("layerActivations", plan.largest().name());
        assertTrue(v.contains("layerActivations") && v.contains("training.gradientCheckpointing"), v);
        JobConfig z0 = job("""
                "context": {"originalLength": 4096, "targetLength": 4096},
                "distributed": {"nodes": 1, "gpusPerNode": 8, "zeroStage": 0}""");
        MemoryPlan full = MemoryPlanner.plan(z0, LLAMA2_70B);
        String v0 = MemoryPlanner.verdict(full, ByteSize.parse("80GiB", "x"), z0);
        assertTrue(v0.contains("frozenWeights") && v0.contains("distributed.zeroStage: 3"), v0);
    }

    @Test
    void cpuPlansHaveNoDeviceTermsAndKeepGradientsWhole() {
        JobConfig cpu = job("""
                "context": {"originalLength": 128, "targetLength": 256},
                "distributed": {"nodes": 2, "gpusPerNode": 0, "zeroStage": 2}""");
        ModelShape tiny = new ModelShape(256, 64, 128, 2, 4, 2, false);
        MemoryPlan plan = MemoryPlanner.plan(cpu, tiny);
        assertEquals("cpu", plan.device());
        assertFalse(plan.termBytes().containsKey("cudaContext"));
        assertEquals(0, plan.term("attentionWorkspace").bytes());
        MemoryPlan oneRank = MemoryPlanner.plan(job("""
                        "context": {"originalLength": 128, "targetLength": 256},
                        "distributed": {"nodes": 1, "gpusPerNode": 0, "zeroStage": 2}"""), tiny);
        assertEquals(oneRank.term("gradients"), plan.term("gradients"));
        assertEquals(0, oneRank.term("commBuffers").bytes());
    }

    @Test
    void byteSizesAndShapesFailNamingTheField() {
        assertEquals(80L << 30, ByteSize.parse("80GiB", "f"));
        assertEquals(80L << 30, ByteSize.parse("80Gi", "f"));
        assertEquals(80_000_000_000L, ByteSize.parse("80GB", "f"));
        assertEquals(81920L << 20, ByteSize.parse("81920MiB", "f"));
        assertEquals(1234, ByteSize.parse("1234", "f"));
        ConfigException bad = assertThrows(ConfigException.class, () -> ByteSize.parse("eighty", "--gpu-memory"));
        assertTrue(bad.getMessage().startsWith("--gpu-memory 'eighty' is not a memory size"), bad.getMessage());
        ConfigException heads =
                assertThrows(ConfigException.class, () -> new ModelShape(100, 64, 128, 2, 5, 5, false).validate());
        assertTrue(heads.getMessage().contains("num_attention_heads=5"), heads.getMessage());
        ConfigException module = assertThrows(
                ConfigException.class,
                () -> MemoryPlanner.plan(job("\"lora\": {\"targetModules\": [\"qkv\"]}"), LLAMA2_7B));
        assertTrue(module.getMessage().contains("lora.targetModules has unknown module 'qkv'"), module.getMessage());
    }
}

package dev.longlora.operator.topology;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The fully resolved training config, exactly the shape of /etc/longlora/job.json in docs/contract.md section 4
 * (component order is the file's key order).
 */
@JsonPropertyOrder({
    "apiVersion",
    "job",
    "model",
    "data",
    "context",
    "attention",
    "lora",
    "training",
    "distributed",
    "checkpoint"
})
public record JobConfig(
        String apiVersion,
        Job job,
        Model model,
        Data data,
        Context context,
        Attention attention,
        Lora lora,
        Training training,
        Distributed distributed,
        Checkpoint checkpoint) {

    public record Job(String name, String namespace) {}

    public record Model(String path, String name) {}

    public record Data(String path, String format, String tokenDtype) {}

    public record Context(int originalLength, int targetLength, double ropeFactor) {}

    public record Attention(String pattern, int groups) {}

    public record Lora(
            int rank,
            double alpha,
            double dropout,
            List<String> targetModules,
            boolean trainEmbeddings,
            boolean trainNorms) {}

    public record Training(
            int maxSteps,
            double learningRate,
            int warmupSteps,
            String schedule,
            int microBatchSize,
            int gradientAccumulationSteps,
            double maxGradNorm,
            double weightDecay,
            double adamBeta1,
            double adamBeta2,
            double adamEpsilon,
            String precision,
            boolean gradientCheckpointing,
            long seed) {}

    public record Distributed(int nodes, int gpusPerNode, int zeroStage, boolean offloadOptimizer) {}

    public record Checkpoint(int everySteps, int keep) {}

    /** Ranks in the gang: one per GPU, or one per pod for a CPU-only job (contract section 2). */
    public int worldSize() {
        return distributed.nodes() * Math.max(1, distributed.gpusPerNode());
    }
}

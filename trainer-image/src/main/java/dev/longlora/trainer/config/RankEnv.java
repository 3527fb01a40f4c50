package dev.longlora.trainer.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * The rank wiring and paths every trainer pod gets through its environment (docs/contract.md section 3).
 * Outside a pod every variable may be absent: a single CPU rank writing checkpoints to {@code ./checkpoints}.
 */
public record RankEnv(
        int nnodes,
        int nodeRank,
        int gpusPerNode,
        int worldSize,
        String masterAddr,
        int masterPort,
        int zeroStage,
        Path checkpointDir,
        ResumeFrom resumeFrom,
        String jobName,
        String namespace,
        String podName) {

    public static RankEnv fromSystem() {
        return from(System.getenv());
    }

    public static RankEnv from(Map<String, String> env) {
        int nnodes = intVar(env, "NNODES", 1, 1, 100_000);
        int gpus = intVar(env, "GPUS_PER_NODE", 0, 0, 8);
        int nodeRank = intVar(env, "NODE_RANK", 0, 0, nnodes - 1);
        int expectedWorld = nnodes * Math.max(1, gpus);
        int world = intVar(env, "WORLD_SIZE", expectedWorld, 1, Integer.MAX_VALUE);
        if (world != expectedWorld) {
            throw new ConfigException("WORLD_SIZE=" + world + " does not match NNODES x max(1, GPUS_PER_NODE) = "
                    + expectedWorld + " (contract section 2)");
        }
        return new RankEnv(
                nnodes,
                nodeRank,
                gpus,
                world,
                env.getOrDefault("MASTER_ADDR", "localhost"),
                intVar(env, "MASTER_PORT", 29500, 1, 65535),
                intVar(env, "ZERO_STAGE", 0, 0, 3),
                Path.of(env.getOrDefault("CHECKPOINT_DIR", "checkpoints")),
                ResumeFrom.parse(env.get("RESUME_FROM")),
                env.getOrDefault("LONGLORA_JOB_NAME", "local"),
                env.getOrDefault("LONGLORA_NAMESPACE", "default"),
                env.getOrDefault("POD_NAME", ""));
    }

    /** Global rank of local index {@code local} on this node. */
    public int globalRank(int local) {
        return nodeRank * Math.max(1, gpusPerNode) + local;
    }

    public boolean isRankZeroNode() {
        return nodeRank == 0;
    }

    private static int intVar(Map<String, String> env, String name, int fallback, int min, int max) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) return fallback;
        int v;
        try {
            v = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException("environment variable " + name + "='" + raw + "' is not an integer");
        }
        if (v < min || v > max) {
            throw new ConfigException("environment variable " + name + "=" + v + " must be in " + min + ".." + max);
        }
        return v;
    }
}

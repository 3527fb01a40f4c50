package dev.longlora.contract;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The rank wiring and paths a trainer pod gets through its environment ({@link TrainerEnv}, docs/contract.md section
 * 3). Outside a pod every variable may be absent: one local rank writing checkpoints to {@code ./checkpoints}.
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
        String podName,
        int restart) {

    public static RankEnv fromSystem() {
        return from(System.getenv());
    }

    public static RankEnv from(Map<String, String> env) {
        int nnodes = intVar(env, TrainerEnv.NNODES, 1, 1, 100_000);
        int gpus = intVar(env, TrainerEnv.GPUS_PER_NODE, 0, 0, 8);
        int nodeRank = intVar(env, TrainerEnv.NODE_RANK, 0, 0, nnodes - 1);
        int expectedWorld = nnodes * Math.max(1, gpus);
        int world = intVar(env, TrainerEnv.WORLD_SIZE, expectedWorld, 1, Integer.MAX_VALUE);
        if (world != expectedWorld) {
            throw new ConfigException(TrainerEnv.WORLD_SIZE + "=" + world + " does not match " + TrainerEnv.NNODES
                    + " x max(1, " + TrainerEnv.GPUS_PER_NODE + ") = " + expectedWorld + " (contract section 2)");
        }
        return new RankEnv(
                nnodes,
                nodeRank,
                gpus,
                world,
                env.getOrDefault(TrainerEnv.MASTER_ADDR, "localhost"),
                intVar(env, TrainerEnv.MASTER_PORT, TrainerEnv.DEFAULT_MASTER_PORT, 1, 65535),
                intVar(env, TrainerEnv.ZERO_STAGE, 0, 0, 3),
                Path.of(env.getOrDefault(TrainerEnv.CHECKPOINT_DIR, "checkpoints")),
                ResumeFrom.parse(env.get(TrainerEnv.RESUME_FROM)),
                env.getOrDefault(TrainerEnv.JOB_NAME, "local"),
                env.getOrDefault(TrainerEnv.NAMESPACE, "default"),
                env.getOrDefault(TrainerEnv.POD_NAME, ""),
                intVar(env, TrainerEnv.RESTART, 0, 0, Integer.MAX_VALUE));
    }

    /**
     * The environment and job.json describe the same gang: each rank-wiring variable that is set must equal the
     * config's value (a local run without them is one rank). A mismatch means the pod and its ConfigMap come from
     * different versions of the job, so training would shard wrongly.
     */
    public RankEnv requireAgreement(Map<String, String> env, JobConfig config) {
        JobConfig.Distributed d = config.distributed();
        agree(env, TrainerEnv.NNODES, nnodes, "distributed.nodes", d.nodes());
        agree(env, TrainerEnv.GPUS_PER_NODE, gpusPerNode, "distributed.gpusPerNode", d.gpusPerNode());
        agree(env, TrainerEnv.WORLD_SIZE, worldSize, "distributed.nodes x max(1, gpusPerNode)", config.worldSize());
        agree(env, TrainerEnv.ZERO_STAGE, zeroStage, "distributed.zeroStage", d.zeroStage());
        return this;
    }

    private static void agree(Map<String, String> env, String name, int envValue, String field, int configValue) {
        if (env.get(name) != null && !env.get(name).isBlank() && envValue != configValue) {
            throw new ConfigException("environment variable " + name + "=" + envValue + " disagrees with job.json "
                    + field + "=" + configValue + ": the pod and its config come from different versions of the"
                    + " job; recreate the pods (the operator does this on a gang restart)");
        }
    }

    /** Global rank of local index {@code local} on this node (contract section 2). */
    public int globalRank(int local) {
        return nodeRank * Math.max(1, gpusPerNode) + local;
    }

    /** Ranks this JVM runs: one per local GPU, one when the node has none. */
    public int localRanks() {
        return Math.max(1, gpusPerNode);
    }

    /** The job as ranks present it at the rendezvous: namespace/name. */
    public String jobIdentity() {
        return namespace + "/" + jobName;
    }

    public boolean isRankZeroNode() {
        return nodeRank == 0;
    }

    /** The wiring as `train --dry-run` shows it. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nnodes", nnodes);
        m.put("nodeRank", nodeRank);
        m.put("gpusPerNode", gpusPerNode);
        m.put("worldSize", worldSize);
        m.put(
                "globalRanks",
                IntStream.range(0, Math.max(1, gpusPerNode))
                        .map(this::globalRank)
                        .boxed()
                        .toList());
        m.put("masterAddr", masterAddr);
        m.put("masterPort", masterPort);
        m.put("zeroStage", zeroStage);
        m.put("checkpointDir", checkpointDir.toString());
        m.put("resumeFrom", resumeFrom.text());
        m.put("jobName", jobName);
        m.put("namespace", namespace);
        m.put("podName", podName);
        m.put("restart", restart);
        return m;
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

package dev.longlora.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.contract.ContractDocument;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.PodPaths;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.topology.JobTopology;
import dev.longlora.operator.topology.TopologySettings;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract end to end: for every manifest in examples/, the operator's topology produces the ConfigMap's job.json
 * and each pod's env; the real trainer jar, started in its own JVM with exactly that env and that file, resolves the
 * same job and rank wiring ({@code train --dry-run}). Nothing else feeds the operator's output to the trainer.
 */
class OperatorToTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopologySettings SETTINGS = new TopologySettings("longlora/trainer-cpu:test", "IfNotPresent");

    @TempDir
    Path dir;

    record Run(int exitCode, String stdout, String stderr) {}

    @Test
    void everyExampleResolvesTheSameInTheTrainer() throws Exception {
        List<Path> examples = examples();
        assertTrue(examples.size() >= 3, "examples/: " + examples);
        int pods = 0;
        for (Path example : examples) {
            JobTopology topology = new JobTopology(job(example), SETTINGS);
            String jobJson = topology.configMap().getData().get(PodPaths.CONFIG_FILE);
            JobConfig written = topology.config();
            List<Pod> gang = topology.pods(0);
            assertEquals(written.distributed().nodes(), gang.size(), example.toString());
            for (Pod pod : gang) {
                Map<String, String> env = env(pod);
                Run r = dryRun(jobJson, env);
                String where = example.getFileName() + " " + pod.getMetadata().getName();
                assertEquals(0, r.exitCode(), where + ": " + r);
                JsonNode out = JSON.readTree(r.stdout());
                JsonNode config = out.get("config");
                JsonNode rank = out.get("rank");
                // Both sides as parsed text, so numbers compare by their JSON form (an int field written as a long is
                // the same).
                assertEquals(
                        JSON.readTree(JobConfigJson.write(written)),
                        config,
                        where + ": the trainer resolved another job");
                assertEquals(written.model().path(), config.at("/model/path").asText(), where);
                assertEquals(written.data().path(), config.at("/data/path").asText(), where);
                assertEquals(
                        (int) written.context().targetLength(),
                        config.at("/context/targetLength").asInt());
                assertEquals(
                        (int) written.attention().groups(),
                        config.at("/attention/groups").asInt());
                assertEquals(
                        (int) written.lora().rank(), config.at("/lora/rank").asInt());
                assertEquals(
                        (int) written.training().maxSteps(),
                        config.at("/training/maxSteps").asInt());
                assertEquals(
                        (int) written.checkpoint().everySteps(),
                        config.at("/checkpoint/everySteps").asInt());
                assertEquals(
                        written.output().merge(), config.at("/output/merge").asBoolean(), where);
                assertEquals(
                        written.evaluation().lengths(),
                        JSON.convertValue(config.at("/evaluation/lengths"), new TypeReference<List<Integer>>() {}),
                        where);
                // rank 0's results report goes where the kubelet reads the termination message (contract section 8)
                var container = pod.getSpec().getContainers().getFirst();
                assertEquals(PodPaths.TERMINATION_MESSAGE_PATH, container.getTerminationMessagePath(), where);
                assertEquals(container.getTerminationMessagePath(), env.get(TrainerEnv.RESULTS_FILE), where);

                int nodeIndex = Integer.parseInt(env.get(TrainerEnv.NODE_RANK));
                int perNode = Math.max(1, written.distributed().gpusPerNode());
                assertEquals(nodeIndex, rank.get("nodeRank").asInt(), where);
                assertEquals(written.worldSize(), rank.get("worldSize").asInt(), where);
                assertEquals(
                        (int) written.distributed().zeroStage(),
                        rank.get("zeroStage").asInt(),
                        where);
                assertEquals(
                        env.get(TrainerEnv.MASTER_ADDR), rank.get("masterAddr").asText(), where);
                assertEquals(
                        PodPaths.CHECKPOINT_MOUNT, rank.get("checkpointDir").asText(), where);
                assertEquals(TrainerEnv.RESUME_LATEST, rank.get("resumeFrom").asText(), where);
                assertEquals(pod.getMetadata().getName(), rank.get("podName").asText(), where);
                List<Integer> globalRanks = new ArrayList<>();
                rank.get("globalRanks").forEach(n -> globalRanks.add(n.asInt()));
                assertEquals(
                        IntStream.range(nodeIndex * perNode, (nodeIndex + 1) * perNode)
                                .boxed()
                                .toList(),
                        globalRanks,
                        where);
                pods++;
            }
        }
        assertTrue(pods >= 6, "pods checked: " + pods);
    }

    /** A pod whose env and ConfigMap come from different versions of the job is refused, naming both values. */
    @Test
    void aPodThatDisagreesWithItsConfigIsABadConfig() throws Exception {
        JobTopology topology = new JobTopology(
                job(examples().stream()
                        .filter(p -> p.getFileName().toString().equals("llama2-7b-32k.yaml"))
                        .findFirst()
                        .orElseThrow()),
                SETTINGS);
        Map<String, String> env = env(topology.pods(0).getFirst());
        env.put(TrainerEnv.ZERO_STAGE, "3");
        Run r = dryRun(topology.configMap().getData().get(PodPaths.CONFIG_FILE), env);
        assertEquals(ExitCode.BAD_CONFIG.code(), r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("ZERO_STAGE=3") && r.stderr().contains("distributed.zeroStage=2"), r.stderr());
    }

    private static List<Path> examples() throws IOException {
        try (Stream<Path> s = Files.list(ContractDocument.repositoryRoot().resolve("examples"))) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static LongLoRAJob job(Path manifest) throws IOException {
        LongLoRAJob job = new KubernetesSerialization().unmarshal(Files.readString(manifest), LongLoRAJob.class);
        if (job.getMetadata().getNamespace() == null) job.getMetadata().setNamespace("default");
        return job;
    }

    private static Map<String, String> env(Pod pod) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : pod.getSpec().getContainers().getFirst().getEnv()) env.put(e.getName(), e.getValue());
        return env;
    }

    /**
     * {@code longlora plan} on every example's job.json, as the operator writes it: a per-GPU estimate and a verdict
     * for 80 GB cards (the model directories are not here, so the shape comes from model.name or builtin:tiny).
     */
    @Test
    void everyExampleGetsAMemoryVerdict() throws Exception {
        for (Path example : examples()) {
            JobTopology topology = new JobTopology(job(example), SETTINGS);
            String jobJson = topology.configMap().getData().get(PodPaths.CONFIG_FILE);
            Run r = trainer(jobJson, Map.of(), "plan", "--gpu-memory", "80GB", "--json");
            assertEquals(0, r.exitCode(), example.getFileName() + ": " + r);
            JsonNode plan = JSON.readTree(r.stdout());
            String where = example.getFileName() + ": " + r.stdout();
            assertTrue(plan.get("perGpuBytes").asLong() > 0, where);
            assertEquals(
                    topology.config().distributed().gpusPerNode() > 0 ? "gpu" : "cpu",
                    plan.get("device").asText(),
                    where);
            assertTrue(plan.get("verdict").asText().matches("(fits|does not fit): .*"), where);
        }
    }

    /** `longlora train --config job.json --dry-run` in a JVM whose environment is exactly {@code env}. */
    private Run dryRun(String jobJson, Map<String, String> env) throws Exception {
        return trainer(jobJson, env, "train", "--dry-run");
    }

    /** `longlora COMMAND --config job.json ARGS...` in a JVM whose environment is exactly {@code env}. */
    private Run trainer(String jobJson, Map<String, String> env, String command, String... args) throws Exception {
        Path config = Files.createTempFile(dir, "job", ".json");
        Files.writeString(config, jobJson);
        Path jar = ContractDocument.repositoryRoot().resolve("trainer-image/target/longlora-trainer.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: the trainer module packages it before this test");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-jar",
                jar.toString(),
                command,
                "--config",
                config.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        Path stdout = dir.resolve("stdout");
        Path stderr = dir.resolve("stderr");
        pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " " + String.join(" ", args) + " did not finish in 120 s");
        }
        return new Run(
                p.exitValue(),
                Files.readString(stdout, StandardCharsets.UTF_8),
                Files.readString(stderr, StandardCharsets.UTF_8));
    }
}

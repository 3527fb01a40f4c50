package dev.longlora.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

    static final String CONTRACT_EXAMPLE = ContractDocument.jobJsonExample();

    @TempDir
    Path dir;

    @Test
    void readsTheContractExample() {
        JobConfig c = JobConfigJson.parse(CONTRACT_EXAMPLE);
        assertEquals("llama2-7b-32k", c.job().name());
        assertEquals("/models/llama-2-7b", c.model().path());
        assertEquals("meta-llama/Llama-2-7b-hf", c.model().name());
        assertEquals(32768, c.context().targetLength());
        assertEquals(8.0, c.context().ropeFactor());
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj"), c.lora().targetModules());
        assertEquals(0.95, c.training().adamBeta2());
        assertEquals(42L, c.training().seed());
        assertEquals(2, c.distributed().zeroStage());
        assertEquals(3, c.checkpoint().keep());
        assertTrue(c.output().merge());
        assertEquals(List.of(4096, 32768), c.evaluation().lengths());
        assertEquals(0.01, c.evaluation().heldOutFraction());
        assertEquals(8, c.evaluation().maxWindows());
        assertEquals(5, c.evaluation().passkeyTrials());
    }

    @Test
    void evaluationIsOnAndSmallByDefaultAtTheOriginalAndTargetLengths() {
        JobConfig c = JobConfigJson.parse(withField("\"context\":{\"originalLength\":256,\"targetLength\":1024}"));
        assertTrue(c.evaluation().enabled());
        assertEquals(List.of(256, 1024), c.evaluation().lengths(), "the original and the target length");
        assertEquals(
                JobConfig.Evaluation.DEFAULT_HELD_OUT_FRACTION, c.evaluation().heldOutFraction());
        assertEquals(
                JobConfig.Evaluation.DEFAULT_HELD_OUT_FRACTION, c.evaluation().heldOutShare());
        assertFalse(c.output().merge(), "merging is asked for, not done by default");
        JobConfig ownFile = JobConfigJson.parse(withField("\"evaluation\":{\"path\":\"/data/pg19-test.bin\"}"));
        assertNull(ownFile.evaluation().heldOutFraction(), "a file of its own: nothing is held out of training");
        assertEquals(0.0, ownFile.evaluation().heldOutShare());
        JobConfig off = JobConfigJson.parse(withField("\"evaluation\":{\"enabled\":false}"));
        assertEquals(0.0, off.evaluation().heldOutShare(), "no evaluation: training reads all the data");
        assertEquals(
                off,
                JobConfigJson.parse(JobConfigJson.write(off)),
                "the resolved lengths and fraction read back the same");
    }

    @Test
    void badEvaluationSettingsNameTheFieldAndTheFix() {
        assertMessage(
                withField("\"evaluation\":{\"path\":\"/data/test.bin\",\"heldOutFraction\":0.1}"),
                "evaluation.path and evaluation.heldOutFraction are both set");
        assertMessage(
                withField("\"evaluation\":{\"heldOutFraction\":0.9}"),
                "evaluation.heldOutFraction=0.9 must be in (0, 0.5]");
        assertMessage(withField("\"evaluation\":{\"lengths\":[1024, 1]}"), "evaluation.lengths holds 1");
        assertMessage(
                withField("\"evaluation\":{\"lengths\":[2,3,4,5,6,7,8,9,10]}"), "lists 9 lengths: give at most 8");
        assertMessage(withField("\"evaluation\":{\"maxWindows\":0}"), "evaluation.maxWindows=0 must be 1..10000");
        assertMessage(
                withField("\"evaluation\":{\"passkeyTrials\":-1}"), "evaluation.passkeyTrials=-1 must be 0..1000");
        assertMessage(withField("\"output\":{\"merge\":\"yes\"}"), "field 'output.merge' has the wrong type");
    }

    @Test
    void fillsDefaultsAndIgnoresUnknownFields() {
        JobConfig c = JobConfigJson.parse("""
                {"model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic", "futureField": 1},
                 "context": {"originalLength": 128, "targetLength": 500}, "attention": {"pattern": "full"},
                 "somethingNew": {"x": true}}""");
        assertEquals(ApiNames.API_VERSION, c.apiVersion());
        assertEquals("builtin:tiny", c.model().name());
        assertEquals(4.0, c.context().ropeFactor(), "ceil(500 / 128)");
        assertEquals("bin", c.data().format());
        assertEquals(1000, c.training().maxSteps());
        assertEquals("constant_with_warmup", c.training().schedule());
        assertEquals(8, c.lora().rank());
        assertEquals(100, c.checkpoint().everySteps());
        assertEquals(600, c.distributed().rendezvousTimeoutSeconds());
        assertEquals(600, c.distributed().collectiveTimeoutSeconds());
    }

    @Test
    void overridesApplyToTheFileAndAreValidatedTheSameWay() throws IOException {
        Path f = dir.resolve("job.json");
        Files.writeString(f, CONTRACT_EXAMPLE);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("training.maxSteps", "7");
        o.put("model.path", "builtin:tiny");
        o.put("attention.pattern", "full");
        JobConfig c = JobConfigJson.read(f, o);
        assertEquals(7, c.training().maxSteps());
        assertEquals("builtin:tiny", c.model().path());
        assertEquals("full", c.attention().pattern());
        ConfigException e =
                assertThrows(ConfigException.class, () -> JobConfigJson.read(f, Map.of("training.maxSteps", "lots")));
        assertTrue(e.getMessage().contains("training.maxSteps"), e.getMessage());
    }

    @Test
    void validationNamesTheField() {
        assertMessage("{\"data\":{\"path\":\"x\"}}", "model.path is required");
        assertMessage(withField("\"training\":{\"learningRate\":-1}"), "training.learningRate=-1.0");
        assertMessage(
                withField("\"context\":{\"originalLength\":100,\"targetLength\":1001}"),
                "context.targetLength=1001 does not split into attention.groups=4");
        assertMessage(withField("\"training\":{\"schedule\":\"linear\"}"), "training.schedule 'linear'");
        assertMessage(withField("\"data\":{\"path\":\"x\",\"format\":\"parquet\"}"), "data.format 'parquet'");
        assertMessage(withField("\"lora\":{\"rank\":\"eight\"}"), "field 'lora.rank' has the wrong type");
        assertMessage(withField("\"apiVersion\":\"longlora.dev/v2\""), "apiVersion");
        assertMessage("[1]", "must be a JSON object");
        assertMessage(
                withField("\"distributed\":{\"rendezvousTimeoutSeconds\":0}"),
                "distributed.rendezvousTimeoutSeconds=0 must be 1..86400");
        assertMessage(
                withField("\"distributed\":{\"collectiveTimeoutSeconds\":86401}"),
                "distributed.collectiveTimeoutSeconds=86401 must be 1..86400");
        assertMessage(
                withField("\"training\":{\"progressEverySeconds\":0}"), "training.progressEverySeconds=0 must be >= 1");
        assertEquals(10, JobConfig.defaults().training().progressEverySeconds(), "the documented default");
    }

    @Test
    void missingFileIsAConfigError() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> JobConfigJson.read(dir.resolve("none.json"), Map.of()));
        assertTrue(e.getMessage().contains("none.json: config file not found"), e.getMessage());
    }

    @Test
    void rankEnvFollowsTheContract() {
        RankEnv local = RankEnv.from(Map.of());
        assertEquals(1, local.worldSize());
        assertEquals(29500, local.masterPort());
        assertEquals(0, local.restart(), "a local run is gang generation 0");
        assertEquals("default/local", local.jobIdentity());
        assertInstanceOf(ResumeFrom.Latest.class, local.resumeFrom());
        RankEnv pod = RankEnv.from(Map.of(
                "NNODES",
                "2",
                "NODE_RANK",
                "1",
                "GPUS_PER_NODE",
                "8",
                "WORLD_SIZE",
                "16",
                "CHECKPOINT_DIR",
                "/checkpoints",
                "RESUME_FROM",
                "300",
                "ZERO_STAGE",
                "3",
                "LONGLORA_RESTART",
                "4"));
        assertEquals(11, pod.globalRank(3));
        assertEquals(4, pod.restart());
        assertEquals(8, pod.localRanks());
        assertEquals(new ResumeFrom.Step(300), pod.resumeFrom());
        assertEquals(Path.of("/checkpoints"), pod.checkpointDir());
        assertTrue(assertThrows(ConfigException.class, () -> RankEnv.from(Map.of("NNODES", "2", "WORLD_SIZE", "3")))
                .getMessage()
                .contains("WORLD_SIZE=3"));
        assertTrue(assertThrows(ConfigException.class, () -> RankEnv.from(Map.of("NODE_RANK", "1")))
                .getMessage()
                .contains("NODE_RANK=1 must be in 0..0"));
        assertTrue(assertThrows(ConfigException.class, () -> RankEnv.from(Map.of("RESUME_FROM", "yesterday")))
                .getMessage()
                .contains("RESUME_FROM='yesterday'"));
        assertInstanceOf(ResumeFrom.None.class, ResumeFrom.parse("none"));
    }

    @Test
    void setRankVariablesMustAgreeWithJobJson() {
        JobConfig eightGpus = JobConfigJson.parse(CONTRACT_EXAMPLE);
        Map<String, String> pod = Map.of("NNODES", "1", "GPUS_PER_NODE", "8", "WORLD_SIZE", "8", "ZERO_STAGE", "2");
        RankEnv.from(pod).requireAgreement(pod, eightGpus);
        RankEnv.from(Map.of()).requireAgreement(Map.of(), eightGpus); // a local run: one rank, nothing set
        Map<String, String> stale = Map.of("NNODES", "1", "GPUS_PER_NODE", "8", "WORLD_SIZE", "8", "ZERO_STAGE", "3");
        ConfigException e =
                assertThrows(ConfigException.class, () -> RankEnv.from(stale).requireAgreement(stale, eightGpus));
        assertTrue(
                e.getMessage().contains("ZERO_STAGE=3") && e.getMessage().contains("distributed.zeroStage=2"),
                e.getMessage());
        Map<String, String> fewer = Map.of("GPUS_PER_NODE", "4", "WORLD_SIZE", "4");
        e = assertThrows(ConfigException.class, () -> RankEnv.from(fewer).requireAgreement(fewer, eightGpus));
        assertTrue(
                e.getMessage().contains("GPUS_PER_NODE=4") && e.getMessage().contains("gpusPerNode=8"), e.getMessage());
    }

    @Test
    void problemsNameFieldsInEachSidesWords() {
        JobConfig c = new JobConfig(
                null,
                null,
                null,
                new JobConfig.Data("d", "parquet", null),
                new JobConfig.Context(100, 1001, null),
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        List<ConfigProblem> problems = c.problems();
        assertEquals(
                List.of("model.path", "data.format", "context.targetLength"),
                problems.stream().map(ConfigProblem::field).toList());
        assertEquals(
                "context.targetLength=1001 does not split into attention.groups=4 groups of even size: choose"
                        + " a length divisible by 8",
                problems.get(2).message());
        assertEquals(
                "spec.context.targetLength=1001 does not split into spec.attention.groups=4 groups of even size:"
                        + " choose a length divisible by 8",
                problems.get(2).render(f -> "spec." + f));
    }

    @Test
    void writtenJsonReadsBackEqual() {
        JobConfig c = JobConfigJson.parse(CONTRACT_EXAMPLE);
        String written = JobConfigJson.write(c);
        assertEquals(c, JobConfigJson.parse(written));
        assertEquals(written, JobConfigJson.write(JobConfigJson.parse(written)), "byte-identical on a rewrite");
    }

    private static String withField(String field) {
        return "{\"model\":{\"path\":\"m\"},\"data\":{\"path\":\"d\"}," + field + "}";
    }

    private static void assertMessage(String json, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> JobConfigJson.parse(json));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
    }
}

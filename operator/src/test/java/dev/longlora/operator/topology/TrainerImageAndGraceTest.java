package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.longlora.operator.api.LongLoRAJob;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

/** Which trainer image a pod runs, and how long it may take to stop. */
class TrainerImageAndGraceTest {
    static final TopologySettings SETTINGS = new TopologySettings(
            "registry.example/longlora/trainer-cpu:1.2.3",
            "registry.example/longlora/trainer-cuda:1.2.3",
            "IfNotPresent");

    static String image(LongLoRAJob job) {
        return new JobTopology(job, SETTINGS)
                .pod(0, 0)
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
    }

    @Test
    void cpuOnlyJobRunsTheCpuImage() {
        assertEquals("registry.example/longlora/trainer-cpu:1.2.3", image(TestJobs.job(2, 0)));
    }

    @Test
    void gpuJobRunsTheCudaImage() {
        assertEquals("registry.example/longlora/trainer-cuda:1.2.3", image(TestJobs.job(1, 1)));
        assertEquals("registry.example/longlora/trainer-cuda:1.2.3", image(TestJobs.job(4, 8)));
    }

    @Test
    void specImageOverridesBothVariants() {
        for (int gpus : new int[] {0, 8}) {
            LongLoRAJob job =
                    TestJobs.job("custom", TestJobs.withImageAndGrace(TestJobs.spec(1, gpus), "my/trainer:dev", null));
            assertEquals("my/trainer:dev", image(job), "gpusPerNode " + gpus);
        }
    }

    @Test
    void oneImageSettingsServeBothBackends() {
        TopologySettings one = new TopologySettings("longlora/trainer:x", "IfNotPresent");
        assertEquals("longlora/trainer:x", one.imageFor(0));
        assertEquals("longlora/trainer:x", one.imageFor(8));
    }

    @Test
    void bothImagesMustBeNamed() {
        assertThrows(IllegalArgumentException.class, () -> new TopologySettings("a:1", " ", "IfNotPresent"));
        assertThrows(IllegalArgumentException.class, () -> new TopologySettings(null, "b:1", "IfNotPresent"));
    }

    @Test
    void everyPodGetsTheDefaultGracePeriodForOneStepAndOneSave() {
        for (Pod pod : new JobTopology(TestJobs.job(4, 8), SETTINGS).pods(0)) {
            assertEquals(
                    JobResolver.DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
                    pod.getSpec().getTerminationGracePeriodSeconds());
        }
        assertEquals(600L, JobResolver.DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }

    @Test
    void specGracePeriodReachesThePods() {
        LongLoRAJob job = TestJobs.job("slow", TestJobs.withImageAndGrace(TestJobs.spec(2, 8), null, 1800L));
        for (Pod pod : new JobTopology(job, SETTINGS).pods(0)) {
            assertEquals(1800L, pod.getSpec().getTerminationGracePeriodSeconds());
        }
    }
}

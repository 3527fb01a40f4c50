package dev.longlora.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.JobResults;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.reconcile.Action.Apply;
import dev.longlora.operator.reconcile.Action.CreatePod;
import dev.longlora.operator.reconcile.Action.DeleteJob;
import dev.longlora.operator.reconcile.Action.DeletePod;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import dev.longlora.operator.status.Conditions;
import dev.longlora.operator.topology.JobTopology;
import dev.longlora.operator.topology.TestJobs;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class JobPlannerTest {
    static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    final JobPlanner planner = new JobPlanner(TestJobs.SETTINGS);

    /** A job as the API server would hand it over: with the status of the previous plan. */
    static LongLoRAJob withStatus(LongLoRAJob job, LongLoRAJobStatus status) {
        job.setStatus(status);
        return job;
    }

    static Pod pod(LongLoRAJob job, int node, int generation, String phase, Integer exitCode) {
        Pod pod = new JobTopology(job, TestJobs.SETTINGS).pod(node, generation);
        var status = new ContainerStatusBuilder().withName("trainer").withReady("Running".equals(phase));
        if (exitCode != null) {
            status.withNewState()
                    .withNewTerminated()
                    .withExitCode(exitCode)
                    .endTerminated()
                    .endState();
        }
        return new PodBuilder(pod)
                .withNewStatus()
                .withPhase(phase)
                .withContainerStatuses(status.build())
                .endStatus()
                .build();
    }

    static List<Pod> gang(LongLoRAJob job, int nodes, int generation, String phase) {
        return IntStream.range(0, nodes)
                .mapToObj(i -> pod(job, i, generation, phase, null))
                .toList();
    }

    /** The supporting objects as the API server returns them: with fields it adds. */
    static List<HasMetadata> supporting(LongLoRAJob job) {
        List<HasMetadata> objects = new JobTopology(job, TestJobs.SETTINGS).supportingObjects();
        objects.forEach(o -> {
            o.getMetadata().setResourceVersion("42");
            o.getMetadata().setCreationTimestamp("2026-11-26T09:00:00Z");
        });
        return objects;
    }

    static Observed observed(LongLoRAJob job, List<Pod> pods) {
        return Observed.of(pods, supporting(job));
    }

    @Test
    void newJobGetsItsObjectsAndTheWholeGang() {
        LongLoRAJob job = TestJobs.job(2, 8);
        Plan plan = planner.plan(job, Observed.empty(), T0);
        assertEquals(6, plan.actions(Apply.class).size());
        assertEquals(
                List.of("llama-node-0", "llama-node-1"),
                plan.actions(CreatePod.class).stream()
                        .map(c -> c.pod().getMetadata().getName())
                        .toList());
        assertEquals(JobPhase.Pending, plan.status().phase());
        assertEquals("2026-11-26T10:00:00Z", plan.status().startTime());
        assertTrue(Conditions.isTrue(plan.status().conditions(), Conditions.CREATED));
        assertEquals(
                List.of("GangCreated"),
                plan.actions(RecordEvent.class).stream()
                        .map(RecordEvent::reason)
                        .toList());
    }

    @Test
    void runningGangIsReportedOnceAndThenLeftAlone() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus pending = planner.plan(job, Observed.empty(), T0).status();
        Plan running =
                planner.plan(withStatus(job, pending), observed(job, gang(job, 2, 0, "Running")), T0.plusSeconds(5));
        assertEquals(JobPhase.Running, running.status().phase());
        assertEquals(
                List.of("Running"),
                running.actions(RecordEvent.class).stream()
                        .map(RecordEvent::reason)
                        .toList());
        assertEquals(2, running.status().workers().ready());

        Plan again = planner.plan(
                withStatus(job, running.status()), observed(job, gang(job, 2, 0, "Running")), T0.plusSeconds(60));
        assertEquals(List.of(), again.actions(), "a second reconcile of an unchanged job must not write");
        assertEquals(running.status(), again.status());
    }

    @Test
    void aChangedSupportingObjectIsReappliedAndOnlyThat() {
        LongLoRAJob job = TestJobs.job(1, 8);
        List<HasMetadata> objects = new ArrayList<>(supporting(job));
        objects.removeIf(o -> o.getKind().equals("ConfigMap"));
        var stale = new JobTopology(job, TestJobs.SETTINGS).configMap();
        stale.setData(Map.of("job.json", "{}"));
        objects.add(stale);
        Plan plan = planner.plan(job, Observed.of(gang(job, 1, 0, "Running"), objects), T0);
        assertEquals(
                List.of("ConfigMap"),
                plan.actions(Apply.class).stream()
                        .map(a -> a.object().getKind())
                        .toList());
    }

    @Test
    void aFailedWorkerTearsDownTheWholeGangAndCountsARestart() {
        LongLoRAJob job = TestJobs.job(3, 8);
        LongLoRAJobStatus running = planner.plan(
                        withStatus(job, planner.plan(job, Observed.empty(), T0).status()),
                        observed(job, gang(job, 3, 0, "Running")),
                        T0)
                .status();
        List<Pod> pods = new ArrayList<>(gang(job, 3, 0, "Running"));
        pods.set(1, pod(job, 1, 0, "Failed", 10));
        Plan plan = planner.plan(withStatus(job, running), observed(job, pods), T0.plusSeconds(30));
        assertEquals(
                List.of("llama-node-0", "llama-node-1", "llama-node-2"),
                plan.actions(DeletePod.class).stream()
                        .map(DeletePod::name)
                        .sorted()
                        .toList());
        assertTrue(
                plan.actions(DeletePod.class).stream()
                        .allMatch(d ->
                                Long.valueOf(DeletePod.TEARDOWN_GRACE_SECONDS).equals(d.gracePeriodSeconds())),
                "survivors of a failed worker cannot finish a step: stopped at once, not after their grace period");
        assertEquals(List.of(), plan.actions(CreatePod.class));
        assertEquals(JobPhase.Restarting, plan.status().phase());
        assertEquals(1, plan.status().restarts());
        assertEquals("LostPeer", plan.status().lastFailure().reason());
        assertEquals(10, plan.status().lastFailure().exitCode());
        assertEquals(
                List.of("WorkerFailed", "GangRestart"),
                plan.actions(RecordEvent.class).stream()
                        .map(RecordEvent::reason)
                        .toList());

        // The old gang is still terminating: wait, then recreate everything as generation 1.
        Plan waiting = planner.plan(withStatus(job, plan.status()), observed(job, pods), T0.plusSeconds(31));
        assertEquals(List.of(), waiting.actions(CreatePod.class));
        assertEquals(JobPhase.Restarting, waiting.status().phase());
        Plan recreate = planner.plan(withStatus(job, waiting.status()), observed(job, List.of()), T0.plusSeconds(40));
        assertEquals(3, recreate.actions(CreatePod.class).size());
        recreate.actions(CreatePod.class).forEach(c -> {
            assertEquals("1", c.pod().getMetadata().getLabels().get("longlora.dev/restart"));
            assertTrue(c.pod().getSpec().getContainers().getFirst().getEnv().stream()
                    .anyMatch(e ->
                            e.getName().equals("RESUME_FROM") && e.getValue().equals("latest")));
        });
        assertEquals(JobPhase.Restarting, recreate.status().phase());
        Plan up = planner.plan(
                withStatus(job, recreate.status()), observed(job, gang(job, 3, 1, "Running")), T0.plusSeconds(50));
        assertEquals(JobPhase.Running, up.status().phase());
        assertEquals(1, up.status().restarts());
    }

    @Test
    void retryableFailuresBeyondBackoffLimitFailTheJobAndKeepTheFailedPodForItsLogs() {
        LongLoRAJob job = TestJobs.job(2, 8); // backoffLimit 2
        LongLoRAJobStatus status = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 2, null, T0.toString(), null, null, null, null, null, null);
        Plan plan = planner.plan(
                withStatus(job, status),
                observed(job, List.of(pod(job, 0, 2, "Running", null), pod(job, 1, 2, "Failed", 137))),
                T0.plusSeconds(9));
        assertEquals(JobPhase.Failed, plan.status().phase());
        assertEquals(
                List.of("llama-node-0"),
                plan.actions(DeletePod.class).stream().map(DeletePod::name).toList());
        assertTrue(Conditions.isTrue(plan.status().conditions(), Conditions.FAILED));
        assertEquals(
                "BackoffLimitExceeded",
                plan.status().conditions().stream()
                        .filter(c -> c.getType().equals("Failed"))
                        .findFirst()
                        .orElseThrow()
                        .getReason());
        assertEquals("Signal", plan.status().lastFailure().reason());
        assertEquals("2026-11-26T10:00:09Z", plan.status().completionTime());
    }

    @Test
    void aRequestedStopRestartsTheGangWithoutCountingAgainstBackoff() {
        LongLoRAJob job = TestJobs.job(2, 8); // backoffLimit 2, already used up
        LongLoRAJobStatus status = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 2, null, T0.toString(), null, null, null, null, null, null);
        Plan plan = planner.plan(
                withStatus(job, status),
                observed(job, List.of(pod(job, 0, 2, "Running", null), pod(job, 1, 2, "Failed", 11))),
                T0.plusSeconds(9));
        assertEquals(JobPhase.Restarting, plan.status().phase(), "exit 11 saved a checkpoint: resume from it");
        assertEquals(3, plan.status().restarts(), "a new gang generation");
        assertEquals(1, plan.status().requestedStops(), "not counted against backoffLimit");
        assertEquals("Stopped", plan.status().lastFailure().reason());
        Plan next = planner.plan(
                withStatus(job, plan.status()),
                observed(job, List.of(pod(job, 0, 3, "Running", null), pod(job, 1, 3, "Failed", 137))),
                T0.plusSeconds(20));
        assertEquals(JobPhase.Failed, next.status().phase(), "a crash after that still meets the used-up limit");
    }

    @Test
    void permanentExitCodesFailWithoutARestart() {
        for (int code : new int[] {2, 3, 4, 5}) {
            LongLoRAJob job = TestJobs.job(2, 8);
            LongLoRAJobStatus status = new LongLoRAJobStatus(
                    JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
            Plan plan = planner.plan(
                    withStatus(job, status),
                    observed(job, List.of(pod(job, 0, 0, "Failed", code), pod(job, 1, 0, "Running", null))),
                    T0);
            assertEquals(JobPhase.Failed, plan.status().phase(), "exit code " + code);
            assertEquals(0, plan.status().restarts());
            assertTrue(plan.status().lastFailure().permanent());
            assertEquals(
                    List.of("llama-node-1"),
                    plan.actions(DeletePod.class).stream().map(DeletePod::name).toList());
            assertEquals(
                    DeletePod.TEARDOWN_GRACE_SECONDS,
                    plan.actions(DeletePod.class).getFirst().gracePeriodSeconds());
        }
    }

    @Test
    void suspendRemovesPodsAndKeepsStatusThenResumeRecreatesTheGang() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus running = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 1, null, T0.toString(), null, null, null, null, null, null);
        LongLoRAJob suspended = TestJobs.job("llama", TestJobs.with(job.getSpec(), true, null, null));
        Plan plan = planner.plan(withStatus(suspended, running), observed(job, gang(job, 2, 1, "Running")), T0);
        assertEquals(2, plan.actions(DeletePod.class).size());
        assertTrue(plan.actions(Apply.class).isEmpty(), "the volume and objects stay");
        assertTrue(
                plan.actions(DeletePod.class).stream().allMatch(d -> d.gracePeriodSeconds() == null),
                "suspension keeps the pods' grace period: the trainer finishes its step and saves");
        assertEquals(JobPhase.Suspended, plan.status().phase());
        assertEquals(1, plan.status().restarts());
        assertNull(plan.status().startTime());
        assertEquals(
                List.of("Suspended"),
                plan.actions(RecordEvent.class).stream()
                        .map(RecordEvent::reason)
                        .toList());

        Plan stillSuspended = planner.plan(withStatus(suspended, plan.status()), observed(job, List.of()), T0);
        assertEquals(List.of(), stillSuspended.actions());

        LongLoRAJob resumed = TestJobs.job("llama", TestJobs.with(job.getSpec(), false, null, null));
        Plan resume = planner.plan(withStatus(resumed, plan.status()), observed(job, List.of()), T0.plusSeconds(60));
        assertEquals(2, resume.actions(CreatePod.class).size());
        assertEquals(JobPhase.Pending, resume.status().phase());
        assertEquals("2026-11-26T10:01:00Z", resume.status().startTime());
        assertTrue(resume.actions(RecordEvent.class).stream()
                .anyMatch(e -> e.reason().equals("Resumed")));
    }

    @Test
    void activeDeadlineFailsTheJob() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.with(TestJobs.spec(1, 8), null, 50L, null));
        LongLoRAJobStatus running = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
        Plan early =
                planner.plan(withStatus(job, running), observed(job, gang(job, 1, 0, "Running")), T0.plusSeconds(20));
        assertEquals(JobPhase.Running, early.status().phase());
        assertEquals(Duration.ofSeconds(31), early.requeueAfter().orElseThrow());
        Plan late =
                planner.plan(withStatus(job, running), observed(job, gang(job, 1, 0, "Running")), T0.plusSeconds(50));
        assertEquals(JobPhase.Failed, late.status().phase());
        assertEquals(1, late.actions(DeletePod.class).size());
        assertTrue(late.status().message().contains("activeDeadlineSeconds"));
    }

    @Test
    void allWorkersSucceededFinishesTheJobAndTtlDeletesItLater() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.with(TestJobs.spec(2, 8), null, null, 600));
        LongLoRAJobStatus running = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
        Plan done = planner.plan(withStatus(job, running), observed(job, gang(job, 2, 0, "Succeeded")), T0);
        assertEquals(JobPhase.Succeeded, done.status().phase());
        assertEquals(T0.toString(), done.status().completionTime());
        assertTrue(done.actions(DeletePod.class).isEmpty(), "completed pods stay for their logs");

        Plan before = planner.plan(
                withStatus(job, done.status()), observed(job, gang(job, 2, 0, "Succeeded")), T0.plusSeconds(100));
        assertEquals(List.of(), before.actions());
        assertEquals(Duration.ofSeconds(500), before.requeueAfter().orElseThrow());
        Plan after = planner.plan(
                withStatus(job, done.status()), observed(job, gang(job, 2, 0, "Succeeded")), T0.plusSeconds(600));
        assertEquals(1, after.actions(DeleteJob.class).size());
    }

    static final String REPORT = """
            {"adapterPath": "/checkpoints/output/adapter", "mergedPath": "/checkpoints/output/merged",
             "perplexity": [{"length": 4096, "value": 7.12}, {"length": 32768, "value": 6.95}],
             "passkey": [{"length": 32768, "accuracy": 0.8}], "time": "2026-11-26T12:00:00Z"}""";

    /** A finished gang whose rank 0 container left {@code message} as its termination message. */
    static List<Pod> succeededWithMessage(LongLoRAJob job, int nodes, String message) {
        List<Pod> pods = new ArrayList<>(gang(job, nodes, 0, "Succeeded"));
        pods.get(0)
                .getStatus()
                .getContainerStatuses()
                .getFirst()
                .setState(new io.fabric8.kubernetes.api.model.ContainerStateBuilder()
                        .withNewTerminated()
                        .withExitCode(0)
                        .withMessage(message)
                        .endTerminated()
                        .build());
        return pods;
    }

    @Test
    void rankZerosResultsReportBecomesStatusResultsAndAnEventAndStaysWhenThePodsGo() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus running = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
        Plan done = planner.plan(withStatus(job, running), observed(job, succeededWithMessage(job, 2, REPORT)), T0);
        assertEquals(JobPhase.Succeeded, done.status().phase());
        var results = done.status().results();
        assertEquals("/checkpoints/output/adapter", results.adapterPath());
        assertEquals("/checkpoints/output/merged", results.mergedPath());
        assertEquals(
                List.of(new JobResults.Perplexity(4096, 7.12), new JobResults.Perplexity(32768, 6.95)),
                results.perplexity());
        assertEquals(List.of(new JobResults.Passkey(32768, 0.8)), results.passkey());
        assertEquals(6.95, results.targetPerplexity(), "the PPL column: the perplexity at the target length");
        assertEquals("2026-11-26T12:00:00Z", results.time());
        RecordEvent event = done.actions(RecordEvent.class).stream()
                .filter(e -> e.reason().equals("Results"))
                .findFirst()
                .orElseThrow();
        assertEquals("Normal", event.type());
        assertTrue(
                event.message().startsWith("perplexity 7.120 at 4096, 6.950 at 32768; passkey 80% at 32768"),
                event.message());
        assertTrue(
                done.status().message().contains("perplexity 7.120 at 4096"),
                done.status().message());

        Plan later = planner.plan(withStatus(job, done.status()), observed(job, List.of()), T0.plusSeconds(3600));
        assertEquals(results, later.status().results(), "the pods are gone, the results stay");
    }

    @Test
    void aMissingOrMalformedReportLeavesResultsEmptySaysWhyAndTheJobStillSucceeds() {
        LongLoRAJob job = TestJobs.job(1, 8);
        for (String message : new String[] {null, "Killed", "{\"perplexity\": []}"}) {
            LongLoRAJobStatus running = new LongLoRAJobStatus(
                    JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
            Plan done =
                    planner.plan(withStatus(job, running), observed(job, succeededWithMessage(job, 1, message)), T0);
            assertEquals(JobPhase.Succeeded, done.status().phase(), "a trained job never fails over its report");
            assertNull(done.status().results());
            var condition = done.status().conditions().stream()
                    .filter(c -> c.getType().equals(Conditions.SUCCEEDED))
                    .findFirst()
                    .orElseThrow();
            assertEquals("SucceededWithoutResults", condition.getReason());
            String expected = message == null
                    ? "the termination message is empty"
                    : message.equals("Killed")
                            ? "the termination message is not a results report"
                            : "the termination message has no adapterPath";
            assertTrue(
                    condition.getMessage().contains("no results from llama-node-0: " + expected),
                    condition.getMessage());
            RecordEvent warning = done.actions(RecordEvent.class).stream()
                    .filter(e -> e.reason().equals("ResultsUnavailable"))
                    .findFirst()
                    .orElseThrow();
            assertEquals("Warning", warning.type());
            assertTrue(warning.message().contains(expected), warning.message());
        }
    }

    @Test
    void rankZeroProgressIsFoldedIntoStatus() {
        LongLoRAJob job = TestJobs.job(2, 8);
        List<Pod> pods = new ArrayList<>(gang(job, 2, 0, "Running"));
        pods.get(0).getMetadata().setAnnotations(Map.of("longlora.dev/progress", """
        {"step": 120, "totalSteps": 1000, "loss": 2.31, "learningRate": 2.0e-5, "tokensPerSecond": 5120.0,
         "etaSeconds": 8600, "updateTime": "2026-11-26T10:00:00Z",
         "lastCheckpoint": {"step": 100, "path": "/checkpoints/step-100", "time": "2026-11-26T09:58:00Z"}}"""));
        Plan plan = planner.plan(job, observed(job, pods), T0);
        assertEquals(120L, plan.status().progress().step());
        assertEquals(2.31, plan.status().progress().loss());
        assertEquals(5120.0, plan.status().progress().tokensPerSecond());
        assertEquals("/checkpoints/step-100", plan.status().lastCheckpoint().path());
    }

    @Test
    void podsOfANewerGangThanTheStatusKnowsMeanTheStatusIsStale() {
        LongLoRAJob job = TestJobs.job(1, 8);
        Plan plan = planner.plan(job, observed(job, gang(job, 1, 3, "Running")), T0);
        assertTrue(plan.actions(CreatePod.class).isEmpty()
                && plan.actions(DeletePod.class).isEmpty());
        assertEquals(job.getStatus(), plan.status());
        assertTrue(plan.requeueAfter().isPresent());
    }

    @Test
    void aWorkerDeletedBySomeoneElseRestartsTheGang() {
        LongLoRAJob job = TestJobs.job(2, 8);
        LongLoRAJobStatus running = new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 0, null, T0.toString(), null, null, null, null, null, null);
        List<Pod> pods = new ArrayList<>(gang(job, 2, 0, "Running"));
        pods.get(1).getMetadata().setDeletionTimestamp("2026-11-26T10:00:00Z");
        Plan plan = planner.plan(withStatus(job, running), observed(job, pods), T0);
        assertEquals(JobPhase.Restarting, plan.status().phase());
        assertEquals("Deleted", plan.status().lastFailure().reason());
        assertEquals(
                List.of("llama-node-0"),
                plan.actions(DeletePod.class).stream().map(DeletePod::name).toList());
    }

    /** A running 2-node gang created at T0 whose rank 0 reports {@code report} (null: nothing yet). */
    static List<Pod> reporting(LongLoRAJob job, int generation, Instant created, String report) {
        List<Pod> pods = gang(job, 2, generation, "Running");
        pods.forEach(p -> p.getMetadata().setCreationTimestamp(created.toString()));
        if (report != null) pods.get(0).getMetadata().setAnnotations(Map.of("longlora.dev/progress", report));
        return pods;
    }

    static String report(long step, Instant trainerClock) {
        return "{\"step\": " + step + ", \"phase\": \"training\", \"updateTime\": \"" + trainerClock + "\"}";
    }

    static LongLoRAJobStatus runningSince(Instant t) {
        return new LongLoRAJobStatus(
                JobPhase.Running, List.of(), 1L, null, 0, null, t.toString(), null, null, null, null, null, null);
    }

    @Test
    void aGangWhoseStepKeepsAdvancingIsNeverStalled() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.withStallDeadlines(TestJobs.spec(2, 8), 60L, 120L));
        LongLoRAJobStatus status = runningSince(T0);
        // ten times the deadline in all, a step every 50 s (within the 60 s deadline)
        for (int i = 1; i <= 12; i++) {
            Instant at = T0.plusSeconds(50L * i);
            List<Pod> pods = reporting(job, 0, T0, report(i, at.minusSeconds(3600))); // a skewed trainer clock
            Plan plan = planner.plan(withStatus(job, status), observed(job, pods), at);
            assertEquals(JobPhase.Running, plan.status().phase(), "at +" + 50 * i + "s");
            assertEquals(at.toString(), plan.status().progress().lastAdvanceTime(), "the operator's clock");
            assertEquals("training", plan.status().progress().phase());
            status = plan.status();
        }
        assertEquals(0, status.restarts());
    }

    @Test
    void aStepThatStopsAdvancingIsStalledThoughHeartbeatsGoOn() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.withStallDeadlines(TestJobs.spec(2, 8), 60L, 3600L));
        Plan first = planner.plan(
                withStatus(job, runningSince(T0)),
                observed(job, reporting(job, 0, T0, report(7, T0.plusSeconds(100)))),
                T0.plusSeconds(100));
        assertEquals(T0.plusSeconds(100).toString(), first.status().progress().lastAdvanceTime());

        // step 7 again, with a newer updateTime: a heartbeat, not progress
        Plan alive = planner.plan(
                withStatus(job, first.status()),
                observed(job, reporting(job, 0, T0, report(7, T0.plusSeconds(130)))),
                T0.plusSeconds(130));
        assertEquals(JobPhase.Running, alive.status().phase());
        assertEquals(T0.plusSeconds(100).toString(), alive.status().progress().lastAdvanceTime(), "not reset");
        assertEquals(Duration.ofSeconds(31), alive.requeueAfter().orElseThrow(), "look again when it would stall");

        Plan stalled = planner.plan(
                withStatus(job, alive.status()),
                observed(job, reporting(job, 0, T0, report(7, T0.plusSeconds(160)))),
                T0.plusSeconds(160));
        assertEquals(JobPhase.Restarting, stalled.status().phase());
        assertEquals("Stalled", stalled.status().lastFailure().reason());
        assertEquals(2, stalled.actions(DeletePod.class).size());
        assertTrue(stalled.actions(DeletePod.class).stream()
                .allMatch(p -> Long.valueOf(DeletePod.TEARDOWN_GRACE_SECONDS).equals(p.gracePeriodSeconds())));
        assertTrue(
                stalled.status().message().contains("step has not advanced for 60s (spec.progressDeadlineSeconds)"),
                stalled.status().message());

        // The next gang starts on the startup clock, from its creation, not from the old gang's last step.
        Instant created = T0.plusSeconds(1000);
        Plan fresh = planner.plan(
                withStatus(job, stalled.status()),
                observed(job, reporting(job, 1, created, null)),
                created.plusSeconds(600));
        assertEquals(JobPhase.Running, fresh.status().phase(), "600 s past the progress deadline, loading still");
        // its first step equal to the old gang's last (it resumed before step 7) still starts its own clock
        Plan resumed = planner.plan(
                withStatus(job, fresh.status()),
                observed(job, reporting(job, 1, created, report(7, created))),
                created.plusSeconds(700));
        assertEquals(
                created.plusSeconds(700).toString(), resumed.status().progress().lastAdvanceTime());
        assertEquals(JobPhase.Running, resumed.status().phase());
    }

    @Test
    void beforeTheFirstStepTheStartupDeadlineApplies() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.withStallDeadlines(TestJobs.spec(2, 8), 30L, 120L));
        String loading = "{\"phase\": \"loading\", \"updateTime\": \"" + T0.plusSeconds(5) + "\"}";
        Plan loadingLong = planner.plan(
                withStatus(job, runningSince(T0)), observed(job, reporting(job, 0, T0, loading)), T0.plusSeconds(100));
        assertEquals(JobPhase.Running, loadingLong.status().phase(), "past the 30 s progress deadline: still loading");
        assertEquals("loading", loadingLong.status().progress().phase());
        assertEquals(null, loadingLong.status().progress().lastAdvanceTime(), "no step yet");
        assertEquals(Duration.ofSeconds(21), loadingLong.requeueAfter().orElseThrow());

        Plan stalled = planner.plan(
                withStatus(job, loadingLong.status()),
                observed(job, reporting(job, 0, T0, loading)),
                T0.plusSeconds(120));
        assertEquals("Stalled", stalled.status().lastFailure().reason());
        assertTrue(
                stalled.status().message().contains("no step within 120s of starting (spec.startupDeadlineSeconds)"),
                stalled.status().message());
    }

    @Test
    void withoutAProgressDeadlineNothingIsStalled() {
        LongLoRAJob job = TestJobs.job("llama", TestJobs.withStallDeadlines(TestJobs.spec(2, 8), null, 60L));
        Plan plan = planner.plan(
                withStatus(job, runningSince(T0)), observed(job, reporting(job, 0, T0, null)), T0.plusSeconds(7200));
        assertEquals(JobPhase.Running, plan.status().phase());
    }

    @Test
    void thePendingMessageSaysWhatAWorkerWaitsFor() {
        LongLoRAJob job = TestJobs.job(2, 8);
        List<Pod> pods = new ArrayList<>(gang(job, 2, 0, "Running"));
        Pod pending = new JobTopology(job, TestJobs.SETTINGS).pod(1, 0);
        pending.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                .withPhase("Pending")
                .addNewCondition()
                .withType("PodScheduled")
                .withStatus("False")
                .withReason("Unschedulable")
                .withMessage("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.")
                .endCondition()
                .build());
        pods.set(1, pending);
        Plan plan = planner.plan(job, observed(job, pods), T0);
        assertEquals(JobPhase.Pending, plan.status().phase());
        assertEquals(
                "waiting for workers: 1 of 2 running; llama-node-1: Unschedulable: 0/4 nodes are available: "
                        + "4 Insufficient nvidia.com/gpu.",
                plan.status().message());
    }

    @Test
    void anInvalidSpecFailsWithTheFieldNamed() {
        LongLoRAJob job = TestJobs.job(2, 8);
        // 32768 tokens do not split into 3 S2 groups.
        LongLoRAJob broken = TestJobs.job(
                "llama",
                new dev.longlora.operator.api.LongLoRAJobSpec(
                        job.getSpec().model(),
                        job.getSpec().dataset(),
                        job.getSpec().context(),
                        new dev.longlora.operator.api.AttentionSpec(null, 3),
                        null,
                        null,
                        job.getSpec().distributed(),
                        job.getSpec().checkpoint(),
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
                        null));
        Plan plan = planner.plan(broken, Observed.empty(), T0);
        assertEquals(JobPhase.Failed, plan.status().phase());
        assertTrue(plan.status().message().contains("spec.attention.groups"));
        assertTrue(plan.actions(CreatePod.class).isEmpty());
    }
}

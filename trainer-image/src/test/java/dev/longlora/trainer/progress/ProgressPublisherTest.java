package dev.longlora.trainer.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.ProgressReport;
import dev.longlora.trainer.train.ProgressSink;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProgressPublisherTest {
    final List<ProgressReport> delivered = new CopyOnWriteArrayList<>();
    final List<String> logged = new CopyOnWriteArrayList<>();

    static ProgressSink.StepProgress step(long n) {
        return new ProgressSink.StepProgress(n, 1000, 2.0, 1e-5, 100.0, 10, 1.0);
    }

    AnnotationProgressSink sink(ProgressPublisher.Transport transport, Duration every) {
        ProgressPublisher p = new ProgressPublisher(transport, every, "test pod", logged::add);
        return new AnnotationProgressSink(p, () -> {}, Clock.systemUTC());
    }

    void awaitDelivered(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (delivered.size() < n && System.nanoTime() < end) Thread.sleep(5);
        assertTrue(delivered.size() >= n, "expected " + n + " reports, got " + delivered);
    }

    @Test
    void aSlowServerSeesOnlyTheNewestReportNotABacklog() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inFlight = new CountDownLatch(1);
        ProgressPublisher.Transport slow = r -> {
            inFlight.countDown();
            release.await();
            delivered.add(r);
        };
        try (AnnotationProgressSink s = sink(slow, Duration.ofMillis(1))) {
            s.phase(ProgressPhase.TRAINING);
            // only once that send is in flight (blocked) do the steps come; before, they would rightly coalesce with it
            assertTrue(inFlight.await(10, TimeUnit.SECONDS), "the first report was never sent");
            long t0 = System.nanoTime();
            for (int i = 1; i <= 500; i++) s.step(step(i));
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500), "steps never wait for sends");
            release.countDown();
            awaitDelivered(2);
            Thread.sleep(100);
            assertEquals(2, delivered.size(), "500 steps while one send was blocked coalesce into one report");
            assertEquals(500L, delivered.get(1).step());
        }
    }

    @Test
    void stepsAreRateLimitedButCheckpointsPhasesAndTheEndAlwaysGoOut() throws Exception {
        try (AnnotationProgressSink s = sink(delivered::add, Duration.ofHours(1))) {
            s.step(step(1)); // the first report goes at once
            awaitDelivered(1);
            for (int i = 2; i <= 50; i++) s.step(step(i));
            Thread.sleep(200);
            assertEquals(1, delivered.size(), "within the interval, steps wait");

            s.checkpoint(50, Path.of("/checkpoints/step-50"));
            awaitDelivered(2);
            assertEquals(50L, delivered.get(1).lastCheckpoint().step(), "a checkpoint goes out at once");
            assertEquals(50L, delivered.get(1).step());

            s.phase(ProgressPhase.MERGING);
            awaitDelivered(3);
            assertEquals(ProgressPhase.MERGING, delivered.get(2).phase());
            s.phase(ProgressPhase.MERGING);
            Thread.sleep(100);
            assertEquals(3, delivered.size(), "the same phase again is no change");

            s.step(step(51));
            s.finish();
            awaitDelivered(4);
            assertEquals(51L, delivered.get(3).step(), "the end goes out at once, with the newest step");
        }
    }

    @Test
    void withinTheIntervalAtMostOneReportPerPeriod() throws Exception {
        try (AnnotationProgressSink s = sink(delivered::add, Duration.ofMillis(300))) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);
            long n = 0;
            while (System.nanoTime() < end) {
                s.step(step(++n));
                Thread.sleep(1);
            }
            int sent = delivered.size();
            assertTrue(sent >= 2 && sent <= 5, "about one report per 300 ms over 1 s, got " + sent);
        }
    }

    @Test
    void failuresAreLoggedOnceRetriedWithBackoffAndNeverReachTraining() throws Exception {
        List<Long> attempts = new CopyOnWriteArrayList<>();
        ProgressPublisher.Transport refusing = r -> {
            attempts.add(System.nanoTime());
            throw new IllegalStateException("403 Forbidden");
        };
        AnnotationProgressSink s = sink(refusing, Duration.ofMillis(1));
        for (int i = 1; i <= 2000; i++) {
            s.step(step(i));
            if (i % 100 == 0) Thread.sleep(2);
        }
        Thread.sleep(1500);
        assertTrue(attempts.size() >= 2 && attempts.size() <= 3, "1 s then 2 s backoff: " + attempts.size());
        long t0 = System.nanoTime();
        s.close();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(6), "the final flush is bounded");
        assertEquals(1, logged.size(), "one message, then quiet: " + logged);
        assertTrue(
                logged.getFirst().contains("403 Forbidden") && logged.getFirst().contains("test pod"));
    }

    @Test
    void anUnreachableApiServerNeverSlowsTraining() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl("http://127.0.0.1:" + closedPort)
                .build();
        AnnotationProgressSink s =
                PodProgress.forPod(config, "ml", "llama-worker-0", Duration.ofSeconds(1), logged::add);
        long t0 = System.nanoTime();
        s.phase(ProgressPhase.LOADING);
        s.phase(ProgressPhase.TRAINING);
        for (int i = 1; i <= 1000; i++) {
            s.step(step(i));
            if (i % 100 == 0) s.checkpoint(i, Path.of("/checkpoints/step-" + i));
        }
        s.finish();
        long calls = System.nanoTime() - t0;
        assertTrue(calls < TimeUnit.MILLISECONDS.toNanos(500), "training-like calls took " + calls / 1e6 + " ms");
        long c0 = System.nanoTime();
        s.close();
        assertTrue(System.nanoTime() - c0 < TimeUnit.SECONDS.toNanos(7), "close waits at most the final flush");
        assertEquals(1, logged.size(), "logged once: " + logged);
        assertTrue(logged.getFirst().contains("pod ml/llama-worker-0"), logged.getFirst());
    }

    @Test
    void aPlainRunWithoutAPodReportsNowhere() {
        assertTrue(
                PodProgress.fromEnvironment(java.util.Map.of(), 10, logged::add).isEmpty());
        assertTrue(logged.isEmpty(), "silently");
    }
}

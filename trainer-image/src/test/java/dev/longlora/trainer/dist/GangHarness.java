package dev.longlora.trainer.dist;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Runs one task per rank on its own thread and collects each rank's result or failure. */
final class GangHarness {
    private GangHarness() {}

    /** A rank's outcome: its value, or what it threw. */
    record Outcome<T>(T value, Throwable failure) {}

    static <T> List<Outcome<T>> run(int world, IntFunction<T> perRank) {
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> perRank.apply(rank)));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(new Outcome<>(f.get(), null));
                } catch (ExecutionException e) {
                    out.add(new Outcome<>(null, e.getCause()));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static Rendezvous.Settings loopback(int port, Duration collectiveTimeout) {
        return new Rendezvous.Settings("127.0.0.1", port, Duration.ofSeconds(20), collectiveTimeout);
    }
}

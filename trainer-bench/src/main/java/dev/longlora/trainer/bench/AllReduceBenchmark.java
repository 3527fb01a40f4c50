package dev.longlora.trainer.bench;

import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.GangIdentity;
import dev.longlora.trainer.dist.Rendezvous;
import dev.longlora.trainer.dist.ThreadRanks;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * All-reduce bus bandwidth against message size: the TCP ring on loopback (every rank a thread of this JVM with its
 * own sockets, as pods would be) and the in-JVM thread ranks, next to a memcpy of the same bytes. Bus bandwidth is
 * NCCL's measure, {@code 2 (N-1)/N x bytes / time}: what each link carries, so world sizes compare.
 *
 * <p>usage: {@code bin/bench AllReduceBenchmark [RANKS (default 2)] [MAX_MIB (default 64)] [ROUNDS (default 5)]}
 */
public final class AllReduceBenchmark {
    private AllReduceBenchmark() {}

    public static void main(String[] args) throws Exception {
        int world = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int maxMib = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<Collectives> tcp = joinTcp(world, port);
        List<Collectives> threads = ThreadRanks.gang(world, Duration.ofSeconds(60));
        System.out.printf(
                Locale.ROOT,
                "%d ranks, best of %d rounds; bus bandwidth = 2(N-1)/N x bytes / time%n%10s %14s %14s %14s%n",
                world,
                rounds,
                "bytes",
                "tcp GB/s",
                "threads GB/s",
                "memcpy GB/s");
        for (long bytes = 4096; bytes <= (long) maxMib << 20; bytes *= 4) {
            int n = (int) (bytes / 4);
            double tcpSeconds = best(tcp, n, rounds);
            double threadSeconds = best(threads, n, rounds);
            double copySeconds = memcpy(n, rounds);
            double factor = 2.0 * (world - 1) / world * bytes / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%10d %14.3f %14.3f %14.3f%n",
                    bytes,
                    factor / tcpSeconds,
                    factor / threadSeconds,
                    bytes / 1e9 / copySeconds);
        }
        tcp.forEach(Collectives::close);
        threads.forEach(Collectives::close);
    }

    private static List<Collectives> joinTcp(int world, int port) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<Collectives>> joins = new ArrayList<>();
            GangIdentity gang = new GangIdentity("bench/allreduce", 0, world);
            Rendezvous.Settings settings =
                    new Rendezvous.Settings("127.0.0.1", port, Duration.ofSeconds(30), Duration.ofSeconds(60));
            for (int r = 0; r < world; r++) {
                int rank = r;
                joins.add(pool.submit(() -> Rendezvous.join(settings, gang, rank)));
            }
            List<Collectives> out = new ArrayList<>();
            for (Future<Collectives> f : joins) out.add(f.get());
            return out;
        } finally {
            pool.shutdown();
        }
    }

    /** The slowest rank's time of one all-reduce of {@code n} floats, best over the rounds (after one warm-up). */
    private static double best(List<Collectives> gang, int n, int rounds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(gang.size());
        try {
            double best = Double.MAX_VALUE;
            for (int round = -1; round < rounds; round++) {
                List<Future<Long>> times = new ArrayList<>();
                for (Collectives c : gang) {
                    times.add(pool.submit(() -> {
                        float[] buffer = new float[n];
                        Arrays.fill(buffer, c.rank());
                        c.barrier();
                        long t0 = System.nanoTime();
                        c.allReduce(buffer);
                        return System.nanoTime() - t0;
                    }));
                }
                long slowest = 0;
                for (Future<Long> t : times) slowest = Math.max(slowest, t.get());
                if (round >= 0) best = Math.min(best, slowest / 1e9);
            }
            return best;
        } finally {
            pool.shutdown();
        }
    }

    private static double memcpy(int n, int rounds) {
        float[] a = new float[n];
        float[] b = new float[n];
        double best = Double.MAX_VALUE;
        for (int round = -1; round < rounds; round++) {
            long t0 = System.nanoTime();
            System.arraycopy(a, 0, b, 0, n);
            long t = System.nanoTime() - t0;
            if (round >= 0) best = Math.min(best, t / 1e9);
            a[round + 1] = b[n - 1];
        }
        return best;
    }
}

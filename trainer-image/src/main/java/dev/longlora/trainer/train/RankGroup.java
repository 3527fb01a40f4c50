package dev.longlora.trainer.train;

import dev.longlora.contract.JobConfig;
import dev.longlora.contract.RankEnv;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.GangIdentity;
import dev.longlora.trainer.dist.LostPeerException;
import dev.longlora.trainer.dist.Rendezvous;
import dev.longlora.trainer.dist.SingleRank;
import dev.longlora.trainer.dist.ThreadRanks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * This JVM's ranks of a job: one rank, or one thread per local GPU slot (GPUS_PER_NODE > 0 with the CPU backend),
 * global rank NODE_RANK x max(1, GPUS_PER_NODE) + local index. A one-node gang talks through shared memory ({@link
 * ThreadRanks}); ranks in several pods form a TCP ring at MASTER_ADDR:MASTER_PORT ({@link Rendezvous}). Each rank has
 * its own backend and model. When one rank fails, its collectives close, so the others fail at once with a lost
 * peer; the group rethrows the first failure that is not a lost peer (the cause), else the first lost peer.
 */
public final class RankGroup {
    private final JobConfig job;
    private final RankEnv env;
    private final IntFunction<Backend> backends;
    private final ProgressSink progress;
    private final Consumer<String> log;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<TrainingRun> runs = new ArrayList<>();

    /** {@code backends}: opens the backend of local rank i (the caller's thread count split between them). */
    public RankGroup(
            JobConfig job, RankEnv env, IntFunction<Backend> backends, ProgressSink progress, Consumer<String> log) {
        this.job = job;
        this.env = env;
        this.backends = backends;
        this.progress = progress;
        this.log = log;
    }

    /** Asks every local rank to stop after the step in progress (they agree on the step). Any thread. */
    public void requestStop() {
        stop.set(true);
        synchronized (runs) {
            runs.forEach(TrainingRun::requestStop);
        }
    }

    /** Runs every local rank to its end; the result is local rank 0's. */
    public TrainingRun.Result run() {
        int local = env.localRanks();
        Duration collectiveTimeout = Duration.ofSeconds(job.distributed().collectiveTimeoutSeconds());
        List<Collectives> shared =
                env.worldSize() > 1 && env.nnodes() == 1 ? ThreadRanks.gang(env.worldSize(), collectiveTimeout) : null;
        if (local == 1) {
            return runRank(0, shared);
        }
        List<Thread> threads = new ArrayList<>();
        Object[] outcomes = new Object[local];
        for (int i = 0; i < local; i++) {
            int index = i;
            Thread t = new Thread(
                    () -> {
                        try {
                            outcomes[index] = runRank(index, shared);
                        } catch (Throwable e) {
                            outcomes[index] = e;
                        }
                    },
                    "rank-" + env.globalRank(i));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the ranks ran", e);
            }
        }
        Throwable cause = null;
        for (Object o : outcomes) {
            if (o instanceof Throwable e && (cause == null || cause instanceof LostPeerException)) {
                if (cause == null || !(e instanceof LostPeerException)) cause = e;
            }
        }
        if (cause instanceof RuntimeException e) throw e;
        if (cause instanceof Error e) throw e;
        return (TrainingRun.Result) outcomes[0];
    }

    private TrainingRun.Result runRank(int localIndex, List<Collectives> shared) {
        int rank = env.globalRank(localIndex);
        try (Backend backend = backends.apply(localIndex)) {
            try (Collectives host = join(rank, shared)) {
                // The backend picks the transport: the host gang itself on CPUs, NCCL formed through it on GPUs.
                Collectives comm = backend.collectivesOver(
                        host, Duration.ofSeconds(job.distributed().collectiveTimeoutSeconds()));
                try {
                    TrainingRun run = new TrainingRun(job, env, backend, progress, log, comm);
                    synchronized (runs) {
                        runs.add(run);
                        if (stop.get()) run.requestStop();
                    }
                    return run.run();
                } finally {
                    if (comm != host) comm.close();
                }
            }
        }
    }

    private Collectives join(int rank, List<Collectives> shared) {
        if (env.worldSize() == 1) return new SingleRank();
        if (shared != null) return shared.get(rank);
        var d = job.distributed();
        return Rendezvous.join(
                new Rendezvous.Settings(
                        env.masterAddr(),
                        env.masterPort(),
                        Duration.ofSeconds(d.rendezvousTimeoutSeconds()),
                        Duration.ofSeconds(d.collectiveTimeoutSeconds())),
                new GangIdentity(env.jobIdentity(), env.restart(), env.worldSize()),
                rank);
    }
}

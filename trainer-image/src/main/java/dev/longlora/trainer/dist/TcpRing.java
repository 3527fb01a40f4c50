package dev.longlora.trainer.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A rank of a TCP ring (CPU ranks in different JVMs): it sends to its successor and receives from its predecessor.
 * All-reduce is reduce-scatter then all-gather, each N-1 ring steps of one shard, so every link carries 2(N-1)/N of
 * the buffer. Sends run on a writer thread while the rank receives, so full socket buffers never deadlock the ring.
 * A closed connection fails at once; a silent predecessor after the collective timeout. The rank that notices a lost
 * peer tells its successor in an abort frame, so every rank names the same lost rank. Behind a silent rank all ranks
 * time out at about the same moment, so a rank that times out first says so downstream (a suspect frame, which also
 * proves it is alive) and waits a short grace for its predecessor's verdict before blaming it.
 */
public final class TcpRing implements Collectives {
    private static final int DATA = 1;
    private static final int ABORT = 2;
    /** "I am alive but my predecessor went silent": the sender's verdict (an abort frame) follows. */
    private static final int SUSPECT = 3;

    private final int rank;
    private final int world;
    private final Socket toSuccessor;
    private final Socket fromPredecessor;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final long timeoutMillis;
    private final ExecutorService writer;
    private Future<?> pendingSend;
    private LostPeerException lost;

    TcpRing(int rank, int world, Socket toSuccessor, Socket fromPredecessor, Duration timeout) throws IOException {
        this.rank = rank;
        this.world = world;
        this.toSuccessor = toSuccessor;
        this.fromPredecessor = fromPredecessor;
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(toSuccessor.getOutputStream(), 1 << 16));
        this.in = new DataInputStream(new java.io.BufferedInputStream(fromPredecessor.getInputStream(), 1 << 16));
        this.timeoutMillis = Math.max(1, timeout.toMillis());
        this.writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ring-send-rank-" + rank);
            t.setDaemon(true);
            return t;
        });
        toSuccessor.setTcpNoDelay(true);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    private int successor() {
        return (rank + 1) % world;
    }

    private int predecessor() {
        return (rank + world - 1) % world;
    }

    private static int mod(int a, int world) {
        return ((a % world) + world) % world;
    }

    @Override
    public void allReduce(float[] buffer) {
        reduceScatterSteps(buffer, Shard.bounds(buffer.length, world), "allReduce");
        allGatherSteps(buffer, "allReduce");
    }

    @Override
    public void reduceScatter(float[] buffer, int[] bounds) {
        Shard.requireBounds(bounds, buffer.length, world);
        reduceScatterSteps(buffer, bounds, "reduceScatter");
    }

    @Override
    public void allGather(float[] buffer) {
        allGatherSteps(buffer, "allGather");
    }

    private void reduceScatterSteps(float[] buffer, int[] bounds, String operation) {
        long deadline = deadline();
        for (int s = 0; s < world - 1; s++) {
            Shard send = Shard.of(bounds, mod(rank - s - 1, world));
            Shard receive = Shard.of(bounds, mod(rank - s - 2, world));
            startSend(buffer, send, operation);
            float[] partial = receive(receive.length(), operation, deadline);
            for (int i = 0; i < partial.length; i++) {
                buffer[receive.start() + i] = partial[i] + buffer[receive.start() + i];
            }
            finishSend(operation, deadline);
        }
    }

    private void allGatherSteps(float[] buffer, String operation) {
        long deadline = deadline();
        for (int s = 0; s < world - 1; s++) {
            Shard send = Shard.of(buffer.length, world, mod(rank - s, world));
            Shard receive = Shard.of(buffer.length, world, mod(rank - s - 1, world));
            startSend(buffer, send, operation);
            float[] values = receive(receive.length(), operation, deadline);
            System.arraycopy(values, 0, buffer, receive.start(), values.length);
            finishSend(operation, deadline);
        }
    }

    /** Passes the root's buffer along the ring, root first. */
    @Override
    public void broadcast(float[] buffer, int root) {
        long deadline = deadline();
        Shard all = new Shard(0, buffer.length);
        if (rank != root) {
            float[] values = receive(buffer.length, "broadcast", deadline);
            System.arraycopy(values, 0, buffer, 0, buffer.length);
        }
        if (successor() != root) {
            startSend(buffer, all, "broadcast");
            finishSend("broadcast", deadline);
        }
    }

    /** An all-gather of one value per rank: it returns only after every rank's value went round. */
    @Override
    public void barrier() {
        allGatherSteps(new float[world], "barrier");
    }

    private long deadline() {
        if (lost != null) throw lost;
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    private void startSend(float[] buffer, Shard shard, String operation) {
        byte[] frame = new byte[8 + 4 * shard.length()];
        ByteBuffer bb = ByteBuffer.wrap(frame);
        bb.putInt(DATA).putInt(shard.length());
        bb.asFloatBuffer().put(buffer, shard.start(), shard.length());
        pendingSend = writer.submit(() -> {
            out.write(frame);
            out.flush();
            return null;
        });
    }

    private void finishSend(String operation, long deadline) {
        try {
            pendingSend.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            pendingSend = null;
        } catch (TimeoutException e) {
            throw fail(new LostPeerException(
                    successor(), operation, "it stopped reading for " + timeoutMillis / 1000 + " s", e));
        } catch (ExecutionException e) {
            throw fail(new LostPeerException(
                    successor(),
                    operation,
                    "the connection broke: " + e.getCause().getMessage(),
                    e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(new LostPeerException(successor(), operation, "interrupted while sending", e));
        }
    }

    private float[] receive(int length, String operation, long deadline) {
        try {
            int n = dataHeader(operation, deadline);
            if (n != length) {
                throw new IllegalStateException(operation + ": rank " + predecessor() + " sent " + n + " values, rank "
                        + rank + " expected " + length + " (the ranks called different collectives)");
            }
            byte[] bytes = new byte[4 * n];
            in.readFully(bytes);
            float[] values = new float[n];
            ByteBuffer.wrap(bytes).asFloatBuffer().get(values);
            return values;
        } catch (SocketTimeoutException e) {
            throw fail(new LostPeerException(
                    predecessor(),
                    operation,
                    "it stopped in the middle of a message for " + timeoutMillis / 1000 + " s",
                    e));
        } catch (EOFException e) {
            throw fail(new LostPeerException(predecessor(), operation, "it closed the connection", e));
        } catch (IOException e) {
            throw fail(new LostPeerException(predecessor(), operation, "the connection broke: " + e.getMessage(), e));
        }
    }

    /**
     * Reads frame headers until a data frame comes (returns its length): an abort frame ends the call naming the rank
     * it reports; a suspect frame is passed on and the wait continues for the verdict; a timeout first tells the
     * successor, then waits a grace for a verdict, then blames the predecessor.
     */
    private int dataHeader(String operation, long deadline) throws IOException {
        fromPredecessor.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        boolean waitingForVerdict = false;
        while (true) {
            int type;
            try {
                type = in.readInt();
            } catch (SocketTimeoutException e) {
                if (waitingForVerdict) {
                    throw fail(new LostPeerException(
                            predecessor(),
                            operation,
                            "it sent nothing for " + timeoutMillis / 1000 + " s (distributed.collectiveTimeoutSeconds)",
                            e));
                }
                waitingForVerdict = true;
                tell(SUSPECT, predecessor(), 0);
                fromPredecessor.setSoTimeout(graceMillis());
                continue;
            }
            int n = in.readInt();
            switch (type) {
                case DATA -> {
                    fromPredecessor.setSoTimeout((int) timeoutMillis);
                    return n;
                }
                case ABORT -> throw fail(new LostPeerException(n, operation, "reported by rank " + predecessor()));
                case SUSPECT -> {
                    // the predecessor is alive and waits on its own predecessor: its verdict follows
                    tell(SUSPECT, n, 0);
                    waitingForVerdict = true;
                    fromPredecessor.setSoTimeout((int) timeoutMillis);
                }
                default ->
                    throw new IllegalStateException(operation + ": rank " + predecessor() + " sent a frame of type "
                            + type + " (another protocol version?)");
            }
        }
    }

    /** How long past the deadline a rank waits for a verdict: a quarter of the timeout, 0.2 to 2 s. */
    private int graceMillis() {
        return (int) Math.max(200, Math.min(2000, timeoutMillis / 4));
    }

    /**
     * Sends a control frame to the successor once the data send in flight (if any) has finished within {@code
     * waitMillis}; never in the middle of a data frame. Best effort: a gone successor is noticed by its own successor.
     */
    private void tell(int type, int value, long waitMillis) {
        if (pendingSend != null && !pendingSend.isDone()) {
            try {
                pendingSend.get(waitMillis, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                if (!pendingSend.isDone()) return;
            }
        }
        try {
            // on the writer thread, so a successor that stopped reading cannot block this rank
            writer.submit(() -> {
                        out.writeInt(type);
                        out.writeInt(value);
                        out.flush();
                        return null;
                    })
                    .get(1, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the successor is gone or stuck too; its own successor will notice
        }
    }

    /** Remembers the loss, tells the successor (after the data send in flight) and closes the links. */
    private LostPeerException fail(LostPeerException e) {
        if (lost != null) return lost;
        lost = e;
        if (e.peerRank() != successor()) {
            tell(ABORT, e.peerRank(), 1000);
        }
        closeLinks();
        return e;
    }

    private void closeLinks() {
        writer.shutdownNow();
        try {
            toSuccessor.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
        try {
            fromPredecessor.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }

    @Override
    public void close() {
        closeLinks();
    }
}

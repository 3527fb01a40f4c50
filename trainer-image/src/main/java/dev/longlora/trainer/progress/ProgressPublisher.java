package dev.longlora.trainer.progress;

import dev.longlora.contract.ProgressReport;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Sends progress reports from one background thread, so a slow or absent API server never slows a training step:
 * {@link #offer} only stores the newest report (older unsent ones are coalesced away) and returns. A report goes out
 * at most once per {@code interval}, or at once when offered as urgent (checkpoint, phase change, end). A failed send
 * is logged once, then retried with exponential backoff; it never reaches the caller.
 */
public final class ProgressPublisher implements AutoCloseable {

    /** Where reports go (the pod annotation; a recorder in tests). May block; may throw. */
    @FunctionalInterface
    public interface Transport {
        void send(ProgressReport report) throws Exception;
    }

    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

    private final Transport transport;
    private final long intervalNanos;
    private final Consumer<String> log;
    private final String target;
    private final Thread thread;

    // guarded by this
    private ProgressReport pending;
    private boolean urgent;
    private boolean closing;
    private long lastSentAt;
    private boolean everSent;
    private long retryAt;
    private boolean backingOff;
    private long backoffNanos = FIRST_BACKOFF.toNanos();
    private boolean failureLogged;
    private long sent;
    private boolean sending;

    /** {@code target} names the destination in the one failure message (e.g. the pod). */
    public ProgressPublisher(Transport transport, Duration interval, String target, Consumer<String> log) {
        this.transport = transport;
        this.intervalNanos = interval.toNanos();
        this.target = target;
        this.log = log;
        this.thread = Thread.ofPlatform().name("longlora-progress").daemon(true).unstarted(this::loop);
        thread.start();
    }

    /** Stores {@code report} as the newest; {@code urgent} sends it without waiting for the interval. */
    public synchronized void offer(ProgressReport report, boolean urgent) {
        if (closing) return;
        pending = report;
        this.urgent |= urgent;
        notifyAll();
    }

    /** Reports delivered so far (tests, diagnostics). */
    public synchronized long sent() {
        return sent;
    }

    private void loop() {
        while (true) {
            ProgressReport report;
            boolean wasUrgent;
            synchronized (this) {
                while (true) {
                    if (closing && pending == null) return;
                    long now = System.nanoTime();
                    long due = dueAt(now);
                    if (pending != null && now - due >= 0) break;
                    try {
                        if (pending == null) wait();
                        else wait(Math.max(1, (due - now) / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                report = pending;
                pending = null;
                wasUrgent = urgent;
                urgent = false;
                sending = true;
            }
            boolean ok = deliver(report);
            synchronized (this) {
                sending = false;
                long now = System.nanoTime();
                if (ok) {
                    sent++;
                    everSent = true;
                    lastSentAt = now;
                    backingOff = false;
                    backoffNanos = FIRST_BACKOFF.toNanos();
                } else {
                    if (pending == null) pending = report; // retry the newest one there is
                    urgent |= wasUrgent; // a checkpoint's report stays due at once after the backoff
                    backingOff = true;
                    retryAt = now + backoffNanos;
                    backoffNanos = Math.min(backoffNanos * 2, MAX_BACKOFF.toNanos());
                }
                notifyAll();
                if (!ok && closing) return; // the final attempt failed: give up rather than hold the exit
            }
        }
    }

    /** When the pending report may go: not before a backoff ends; urgent at once; otherwise one interval on. */
    private long dueAt(long now) {
        long due = backingOff ? retryAt : now;
        if (!urgent && !closing && everSent && lastSentAt + intervalNanos - due > 0) {
            due = lastSentAt + intervalNanos;
        }
        return due;
    }

    private boolean deliver(ProgressReport report) {
        try {
            transport.send(report);
            return true;
        } catch (Exception | LinkageError e) {
            synchronized (this) {
                if (!failureLogged) {
                    failureLogged = true;
                    log.accept("warning: cannot report progress to " + target + " (" + e
                            + "); training goes on, retrying with backoff up to " + MAX_BACKOFF.toSeconds()
                            + "s without further messages");
                }
            }
            return false;
        }
    }

    /**
     * Sends what is pending, waiting at most {@code timeout} for it (one attempt, even when backing off), then stops
     * the thread.
     */
    public void close(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            closing = true;
            backingOff = false; // one last attempt now
            notifyAll();
            while ((pending != null || sending) && thread.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        thread.interrupt();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}

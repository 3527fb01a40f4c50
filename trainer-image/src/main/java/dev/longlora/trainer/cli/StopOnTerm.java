package dev.longlora.trainer.cli;

import java.io.PrintWriter;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (pod deletion, preemption, eviction, suspension) asks the run to stop after the step in progress and save
 * a checkpoint there; the trainer then exits {@code Stopped} (11) on its own. A signal handler rather than a
 * shutdown hook: a hook runs while the JVM is already exiting with 143, so the exit code could not say that the
 * checkpoint was saved, and the operator could not tell a requested stop from a crash. After the last step (merge,
 * evaluation) the same handler, without a gap in which the default would kill with 143, exits at once: that work is
 * cheaper to redo than to finish.
 */
final class StopOnTerm implements AutoCloseable {
    private static final Signal TERM = new Signal("TERM");
    private final SignalHandler previous;
    private volatile int exitCode = -1;

    private StopOnTerm(SignalHandler previous) {
        this.previous = previous;
    }

    /** {@code requestStop}: TrainingRun::requestStop or RankGroup::requestStop. */
    static StopOnTerm install(Runnable requestStop, PrintWriter err) {
        StopOnTerm[] self = new StopOnTerm[1];
        SignalHandler previous = Signal.handle(TERM, signal -> {
            int code = self[0] == null ? -1 : self[0].exitCode;
            if (code >= 0) {
                err.println("termination requested (SIG" + signal.getName() + ") after training finished: the"
                        + " adapter is saved; exiting " + code + " so that a restart redoes the merge and evaluation");
                err.flush();
                Runtime.getRuntime().halt(code);
            }
            err.println("termination requested (SIG" + signal.getName() + "): finishing the current step and saving"
                    + " a checkpoint");
            err.flush();
            requestStop.run();
        });
        self[0] = new StopOnTerm(previous);
        return self[0];
    }

    /** From now on SIGTERM exits with {@code code} at once (training is over and its outputs are published). */
    void exitOnTermFromNowOn(int code) {
        exitCode = code;
    }

    @Override
    public void close() {
        Signal.handle(TERM, previous);
    }
}

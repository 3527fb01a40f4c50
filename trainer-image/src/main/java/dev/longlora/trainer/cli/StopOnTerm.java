package dev.longlora.trainer.cli;

import java.io.PrintWriter;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (pod deletion, preemption, eviction, suspension) asks the run to stop after the step in progress and save
 * a checkpoint there; the trainer then exits {@code Stopped} (11) on its own. A signal handler rather than a
 * shutdown hook: a hook runs while the JVM is already exiting with 143, so the exit code could not say that the
 * checkpoint was saved, and the operator could not tell a requested stop from a crash.
 */
final class StopOnTerm implements AutoCloseable {
    private static final Signal TERM = new Signal("TERM");
    private final SignalHandler previous;

    private StopOnTerm(SignalHandler previous) {
        this.previous = previous;
    }

    /** {@code requestStop}: TrainingRun::requestStop or RankGroup::requestStop. */
    static StopOnTerm install(Runnable requestStop, PrintWriter err) {
        SignalHandler previous = Signal.handle(TERM, signal -> {
            err.println("termination requested (SIG" + signal.getName() + "): finishing the current step and saving"
                    + " a checkpoint");
            err.flush();
            requestStop.run();
        });
        return new StopOnTerm(previous);
    }

    @Override
    public void close() {
        Signal.handle(TERM, previous);
    }
}

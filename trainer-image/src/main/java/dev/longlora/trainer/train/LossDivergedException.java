package dev.longlora.trainer.train;

/**
 * Training diverged: the loss of an optimizer step came out NaN or infinite. The message gives the step and the
 * learning rate; the trainer exits {@code LossDiverged} (5), a permanent failure, since a restart from the last
 * checkpoint with the same settings would diverge again.
 */
public class LossDivergedException extends RuntimeException {
    public LossDivergedException(String message) {
        super(message);
    }
}

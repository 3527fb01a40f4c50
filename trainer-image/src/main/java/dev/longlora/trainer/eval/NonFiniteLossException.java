package dev.longlora.trainer.eval;

/**
 * A loss came out NaN or infinite: the weights or the data are broken, or training diverged. The message says
 * where (window or step) and what to try; the command line maps it to exit code 3.
 */
public class NonFiniteLossException extends RuntimeException {
    public NonFiniteLossException(String message) {
        super(message);
    }
}

package dev.longlora.trainer.io;

import java.nio.file.Path;

/**
 * An input file (model weights, config, adapter, token data, checkpoint) is unreadable or invalid.
 * The message always names the file and, where known, the tensor or field, so the user can fix it;
 * the command line maps it to exit code 3 (contract section 7).
 */
public class FormatException extends RuntimeException {
    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }

    public FormatException(Path file, String detail) {
        super(file + ": " + detail);
    }

    public FormatException(Path file, String detail, Throwable cause) {
        super(file + ": " + detail, cause);
    }
}

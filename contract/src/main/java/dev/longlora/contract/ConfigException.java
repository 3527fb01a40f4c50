package dev.longlora.contract;

/**
 * Bad configuration: the message names the field (JSON path, flag or environment variable) and the fix. The
 * trainer exits with {@link ExitCode#BAD_CONFIG}, a permanent failure; use it only for the user's input, never for a
 * bug. It is an {@link IllegalArgumentException} (the user's argument was illegal), but not every one is: the
 * trainer maps only this class to exit 2, and a plain IllegalArgumentException from deep inside the code to 1.
 */
public class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}

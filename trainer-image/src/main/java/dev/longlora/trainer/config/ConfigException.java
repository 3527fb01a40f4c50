package dev.longlora.trainer.config;

/**
 * Bad configuration or arguments: the message names the field (JSON path, flag or environment variable) and
 * the fix. The command line maps it to exit code 2 (contract section 7), a permanent failure.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}

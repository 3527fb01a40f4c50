package dev.longlora.trainer.config;

import java.util.Locale;

/** {@code RESUME_FROM}: the newest complete checkpoint ({@code latest}), none, or one step. */
public sealed interface ResumeFrom {

    record Latest() implements ResumeFrom {}

    record None() implements ResumeFrom {}

    record Step(long step) implements ResumeFrom {}

    static ResumeFrom parse(String value) {
        String v = value == null || value.isBlank() ? "latest" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "latest" -> new Latest();
            case "none" -> new None();
            default -> {
                try {
                    long step = Long.parseLong(v);
                    if (step < 0) throw new NumberFormatException();
                    yield new Step(step);
                } catch (NumberFormatException e) {
                    throw new ConfigException(
                            "RESUME_FROM='" + value + "' is invalid: use latest, none or a step number");
                }
            }
        };
    }
}

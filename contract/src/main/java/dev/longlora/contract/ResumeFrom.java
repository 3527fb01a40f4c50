package dev.longlora.contract;

import java.util.Locale;

/** {@code RESUME_FROM}: the newest complete checkpoint ({@code latest}), none, or one step. */
public sealed interface ResumeFrom {

    record Latest() implements ResumeFrom {}

    record None() implements ResumeFrom {}

    record Step(long step) implements ResumeFrom {}

    static ResumeFrom parse(String value) {
        String v = value == null || value.isBlank()
                ? TrainerEnv.RESUME_LATEST
                : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case TrainerEnv.RESUME_LATEST -> new Latest();
            case "none" -> new None();
            default -> {
                try {
                    long step = Long.parseLong(v);
                    if (step < 0) throw new NumberFormatException();
                    yield new Step(step);
                } catch (NumberFormatException e) {
                    throw new ConfigException(
                            TrainerEnv.RESUME_FROM + "='" + value + "' is invalid: use latest, none or a step number");
                }
            }
        };
    }

    /** The spelling RESUME_FROM takes. */
    default String text() {
        return switch (this) {
            case Latest l -> TrainerEnv.RESUME_LATEST;
            case None n -> "none";
            case Step s -> Long.toString(s.step());
        };
    }
}

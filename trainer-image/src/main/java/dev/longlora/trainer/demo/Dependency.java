package dev.longlora.trainer.demo;

/**
 * A token that can only be predicted by looking back: the token at {@code answerPosition} repeats the token at
 * {@code sourcePosition} and nothing in between gives it away.
 */
public record Dependency(int answerPosition, int sourcePosition) {
    public Dependency {
        if (sourcePosition >= answerPosition) {
            throw new IllegalArgumentException("a dependency's source must lie before its answer");
        }
    }

    /** How many tokens back the model has to look. */
    public int distance() {
        return answerPosition - sourcePosition;
    }
}

package dev.longlora.trainer.eval;

/** Accuracy of the trials at one requested length. */
public record PasskeyLengthResult(int length, int trials, int correct, int meanPromptTokens) {
    public double accuracy() {
        return trials == 0 ? 0 : (double) correct / trials;
    }
}

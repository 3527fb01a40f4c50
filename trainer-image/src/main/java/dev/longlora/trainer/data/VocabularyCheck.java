package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;

/** Token ids must index the model's embedding: a mismatch means data tokenized for another model. */
public final class VocabularyCheck {
    private VocabularyCheck() {}

    public static void require(int[] tokens, long start, int vocabSize, TokenSource source) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new FormatException(source.description() + ": token id " + tokens[i] + " at position "
                        + (start + i) + " is outside the model's vocabulary of " + vocabSize
                        + " ids; was the data tokenized for another model (or is --token-dtype wrong)?");
            }
        }
    }
}

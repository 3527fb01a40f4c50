package dev.longlora.trainer.demo;

import java.util.Arrays;

/** A growable token sequence that reports where each appended piece starts. */
final class TokenBuffer {
    private final DemoVocabulary vocabulary = DemoVocabulary.get();
    private int[] tokens = new int[64];
    private int size;

    int size() {
        return size;
    }

    /** Appends space-separated words and returns the position of the first one. */
    int words(String text) {
        int start = size;
        for (int id : vocabulary.encode(text)) {
            token(id);
        }
        return start;
    }

    int token(int id) {
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
        }
        tokens[size] = id;
        return size++;
    }

    int[] toArray() {
        return Arrays.copyOf(tokens, size);
    }
}

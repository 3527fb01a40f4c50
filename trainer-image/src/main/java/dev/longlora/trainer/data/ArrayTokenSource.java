package dev.longlora.trainer.data;

import java.util.Arrays;

/** Tokens held in memory (tokenized text, generated corpora, tests). */
record ArrayTokenSource(int[] tokens, String description) implements TokenSource {

    @Override
    public long length() {
        return tokens.length;
    }

    @Override
    public int[] slice(long start, int count) {
        if (start < 0 || count < 0 || start + count > tokens.length) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + count) + ") of " + tokens.length);
        }
        return Arrays.copyOfRange(tokens, (int) start, (int) start + count);
    }
}

package dev.longlora.trainer.data;

/** A read-only stream of token ids, addressable by position (a memory-mapped file or an in-memory array). */
public interface TokenSource extends AutoCloseable {

    /** Number of tokens. */
    long length();

    /** Copies tokens [start, start + count) into a new array. */
    int[] slice(long start, int count);

    /** Where the tokens come from, for messages. */
    String description();

    @Override
    default void close() {
    }

    static TokenSource of(int[] tokens, String description) {
        return new ArrayTokenSource(tokens, description);
    }
}

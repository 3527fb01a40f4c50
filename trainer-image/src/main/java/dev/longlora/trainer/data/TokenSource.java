package dev.longlora.trainer.data;

/** A read-only stream of token ids, addressable by position (a memory-mapped file or an in-memory array). */
public interface TokenSource extends AutoCloseable {

    /** Number of tokens. */
    long length();

    /** Copies tokens [start, start + count) into a new array. */
    int[] slice(long start, int count);

    /**
     * Labels of the window {@code inputs} read at {@code start}: the tokens themselves (every position is trained)
     * unless the source masks some, e.g. the prompts of SFT data, with {@link #IGNORE}.
     */
    default int[] labels(long start, int[] inputs) {
        return inputs.clone();
    }

    /** Label of a position the loss skips (HF's ignore index). */
    int IGNORE = -100;

    /** Where the tokens come from, for messages. */
    String description();

    @Override
    default void close() {}

    static TokenSource of(int[] tokens, String description) {
        return new ArrayTokenSource(tokens, description);
    }
}

package dev.longlora.trainer.data;

/**
 * Tokens [from, from + length) of another source, addressed from 0: what training or evaluation may read of a corpus
 * split between them. Reads outside the range fail instead of reaching the other part. Closing it leaves the
 * underlying source open (its owner closes it).
 */
public record TokenRange(TokenSource source, long from, long length, String description) implements TokenSource {

    public TokenRange {
        if (from < 0 || length < 0 || from + length > source.length()) {
            throw new IllegalArgumentException("tokens [" + from + ", " + (from + length) + ") are not inside the "
                    + source.length() + " of " + source.description());
        }
    }

    public static TokenRange of(TokenSource source, long from, long length) {
        return new TokenRange(
                source, from, length, source.description() + " tokens [" + from + ", " + (from + length) + ")");
    }

    @Override
    public int[] slice(long start, int count) {
        check(start, count);
        return source.slice(from + start, count);
    }

    @Override
    public int[] labels(long start, int[] inputs) {
        check(start, inputs.length);
        return source.labels(from + start, inputs);
    }

    private void check(long start, int count) {
        if (start < 0 || count < 0 || start + count > length) {
            throw new IndexOutOfBoundsException(
                    "tokens [" + start + ", " + (start + count) + ") of the " + length + " of " + description);
        }
    }

    @Override
    public void close() {}
}

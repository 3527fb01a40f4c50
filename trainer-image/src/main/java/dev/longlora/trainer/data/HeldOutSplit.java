package dev.longlora.trainer.data;

import dev.longlora.contract.JobConfig;

/**
 * The training data split for evaluation (evaluation.heldOutFraction): the last {@code fraction} of the tokens are
 * held out, and training reads only the tokens before {@link #boundary()}. Training windows are whole chunks of the
 * training part, so none reaches into the held-out tokens; evaluation windows lie inside the held-out part.
 */
public record HeldOutSplit(long length, long boundary) {

    /** The split of a source of {@code length} tokens holding out {@code fraction} (0: nothing held out). */
    public static HeldOutSplit of(long length, double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction " + fraction + " must be in [0, 1)");
        }
        long heldOut = (long) Math.ceil(length * fraction);
        return new HeldOutSplit(length, length - heldOut);
    }

    /** The job's split of its training data: nothing held out when evaluation is off or reads its own file. */
    public static HeldOutSplit forJob(JobConfig job, long length) {
        return of(length, job.evaluation().heldOutShare());
    }

    public long heldOutTokens() {
        return length - boundary;
    }

    /** What training reads: the whole source when nothing is held out. */
    public TokenSource training(TokenSource source) {
        requireLength(source);
        return heldOutTokens() == 0 ? source : TokenRange.of(source, 0, boundary);
    }

    /** What evaluation reads: the held-out tail. */
    public TokenSource heldOut(TokenSource source) {
        requireLength(source);
        return TokenRange.of(source, boundary, heldOutTokens());
    }

    private void requireLength(TokenSource source) {
        if (source.length() != length) {
            throw new IllegalArgumentException(
                    "the split is of " + length + " tokens, " + source.description() + " has " + source.length());
        }
    }
}

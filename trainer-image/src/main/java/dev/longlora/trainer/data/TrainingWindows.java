package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.io.FormatException;
import java.util.SplittableRandom;

/**
 * Training windows over a token stream: the stream is cut into non-overlapping chunks of exactly {@code seqLen}
 * tokens (LongLoRA's packing); labels are the chunk itself (with the source's masked positions, e.g. SFT prompts, set to -100), shifted inside the model (HF convention: position t
 * predicts token t + 1). Every epoch visits the chunks in a fresh order shuffled from (seed, epoch). The whole state is the number of windows consumed ({@link #position()}), so a
 * checkpoint that stores it resumes on exactly the next window.
 */
public final class TrainingWindows {

    private final TokenSource source;
    private final int seqLen;
    private final long seed;
    private final int windowsPerEpoch;
    private long position;
    private int[] order;
    private long orderEpoch = -1;

    public TrainingWindows(TokenSource source, int seqLen, long seed) {
        if (seqLen < 1) throw new ConfigException("sequence length " + seqLen + " must be positive");
        long n = source.length() / seqLen;
        if (n < 1) {
            throw new FormatException(source.description() + ": has " + source.length()
                    + " tokens, fewer than one training window of " + seqLen + " tokens");
        }
        this.source = source;
        this.seqLen = seqLen;
        this.seed = seed;
        this.windowsPerEpoch = (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** One training example: inputs and labels of equal length (the model shifts labels by one). */
    public record Window(int[] inputs, int[] labels, long start) {}

    public int windowsPerEpoch() {
        return windowsPerEpoch;
    }

    public long position() {
        return position;
    }

    /** Continues from a checkpoint's data position. */
    public void seek(long windowsConsumed) {
        if (windowsConsumed < 0)
            throw new IllegalArgumentException("data position " + windowsConsumed + " is negative");
        position = windowsConsumed;
    }

    public Window next() {
        long epoch = position / windowsPerEpoch;
        int index = (int) (position % windowsPerEpoch);
        if (epoch != orderEpoch) {
            order = shuffled(windowsPerEpoch, seed * 0x9E3779B97F4A7C15L + epoch);
            orderEpoch = epoch;
        }
        long start = (long) order[index] * seqLen;
        int[] inputs = source.slice(start, seqLen);
        int[] labels = source.labels(start, inputs);
        position++;
        return new Window(inputs, labels, start);
    }

    private static int[] shuffled(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}

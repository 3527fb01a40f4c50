package dev.longlora.trainer.merge;

/** Folds a LoRA adapter into its base weight: W' = W + scaling * B A (PEFT's merge, bias-free). */
public final class LoraFolding {
    private LoraFolding() {}

    /**
     * Returns W + scaling * B A for W [out, in] (row-major), A [r, in], B [out, r]; {@code w} is updated in place and
     * returned. Each element's update is accumulated in double, so the folded weight rounds only once.
     */
    public static float[] fold(float[] w, int out, int in, float[] a, float[] b, int r, double scaling) {
        if (w.length != (long) out * in || a.length != (long) r * in || b.length != (long) out * r) {
            throw new IllegalArgumentException(
                    "LoRA shapes disagree: W " + w.length + " values for [" + out + ", " + in + "], A " + a.length
                            + " for [" + r + ", " + in + "], B " + b.length + " for [" + out + ", " + r + "]");
        }
        double[] row = new double[in];
        for (int o = 0; o < out; o++) {
            java.util.Arrays.fill(row, 0);
            for (int k = 0; k < r; k++) {
                double bk = b[o * r + k];
                if (bk == 0) continue;
                int aRow = k * in;
                for (int i = 0; i < in; i++) row[i] += bk * a[aRow + i];
            }
            int wRow = o * in;
            for (int i = 0; i < in; i++) w[wRow + i] = (float) (w[wRow + i] + scaling * row[i]);
        }
        return w;
    }
}

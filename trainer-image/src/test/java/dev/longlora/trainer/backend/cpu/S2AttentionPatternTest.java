package dev.longlora.trainer.backend.cpu;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.model.AttentionSpec;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** S2-Attn's grouping exactly as longlora-method.md section 2: segment bounds, no future leak, no wrap-around. */
class S2AttentionPatternTest {
    private static final CpuBackend BE = new CpuBackend(2);
    private static final int T = 16;
    private static final int H = 4;
    private static final int HKV = 2;
    private static final int D = 8;
    private static final int G = 8;

    @AfterAll
    static void close() {
        BE.close();
    }

    @Test
    void shiftedSegmentsAreHalfLengthAtBothEndsWithoutWrapAround() {
        List<int[]> unshifted = CpuAttention.segments(T, G, false);
        List<int[]> shifted = CpuAttention.segments(T, G, true);
        assertEquals(
                List.of("[0,8)", "[8,16)"),
                unshifted.stream().map(s -> "[" + s[0] + "," + s[1] + ")").toList());
        assertEquals(
                List.of("[0,4)", "[4,12)", "[12,16)"),
                shifted.stream().map(s -> "[" + s[0] + "," + s[1] + ")").toList());
        List<int[]> longer = CpuAttention.segments(1024, 256, true);
        assertEquals(5, longer.size());
        assertArrayEquals(new int[] {896, 1024}, longer.get(4));
    }

    @Test
    void matchesMaskedReferenceForEveryPattern() {
        float[] q = random(T * H * D, 0, 1, 1);
        float[] k = random(T * HKV * D, 0, 1, 2);
        float[] v = random(T * HKV * D, 0, 1, 3);
        for (AttentionSpec spec : List.of(
                AttentionSpec.full(), AttentionSpec.s2(2), AttentionSpec.shortNoShift(2), AttentionSpec.s2(4))) {
            int g = spec.groupSize(T);
            float[] got = attend(q, k, v, g, spec.shiftsHalfTheHeads());
            double[] want = reference(q, k, v, g, spec.shiftsHalfTheHeads());
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-5, spec + " element " + i);
            }
        }
    }

    @Test
    void noQueryReadsAFutureToken() {
        float[] q = random(T * H * D, 0, 1, 4);
        float[] k = random(T * HKV * D, 0, 1, 5);
        float[] v = random(T * HKV * D, 0, 1, 6);
        float[] base = attend(q, k, v, G, true);
        for (int p = 1; p < T; p++) {
            float[] k2 = k.clone();
            float[] v2 = v.clone();
            for (int c = 0; c < HKV * D; c++) {
                k2[p * HKV * D + c] += 3f;
                v2[p * HKV * D + c] -= 3f;
            }
            float[] changed = attend(q, k2, v2, G, true);
            for (int i = 0; i < p * H * D; i++) {
                assertEquals(
                        base[i], changed[i], 0f, "position " + i / (H * D) + " saw a change at future position " + p);
            }
        }
    }

    @Test
    void shiftedHeadsDoNotWrapTheFirstTokensAroundToTheEnd() {
        float[] q = random(T * H * D, 0, 1, 7);
        float[] k = random(T * HKV * D, 0, 1, 8);
        float[] v = random(T * HKV * D, 0, 1, 9);
        float[] base = attend(q, k, v, G, true);
        // Perturb the first G/2 tokens: in the no-wrap variant they form the shifted heads' first (half) segment only.
        float[] k2 = k.clone();
        float[] v2 = v.clone();
        for (int p = 0; p < G / 2; p++) {
            for (int c = 0; c < HKV * D; c++) {
                k2[p * HKV * D + c] += 2f;
                v2[p * HKV * D + c] += 2f;
            }
        }
        float[] changed = attend(q, k2, v2, G, true);
        for (int pos = 0; pos < T; pos++) {
            for (int h = 0; h < H; h++) {
                boolean shiftedHead = h >= H / 2;
                boolean sameSegment = shiftedHead ? pos < G / 2 : pos < G;
                int o = pos * H * D + h * D;
                boolean differs = false;
                for (int c = 0; c < D; c++) {
                    differs |= base[o + c] != changed[o + c];
                }
                assertEquals(sameSegment, differs, "head " + h + " position " + pos);
            }
        }
    }

    @Test
    void lengthThatDoesNotSplitIntoGroupsGetsAClearError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> AttentionSpec.s2(4).validate(1002));
        assertTrue(e.getMessage().startsWith("sequence length L=1002 does not split into 4 groups"), e.getMessage());
        IllegalArgumentException odd = assertThrows(
                IllegalArgumentException.class, () -> AttentionSpec.s2(4).validate(12));
        assertTrue(odd.getMessage().contains("odd"), odd.getMessage());
        AttentionSpec.shortNoShift(4).validate(12);
        AttentionSpec.full().validate(1001);
        assertEquals(4, AttentionSpec.s2FromRatio(0.25).groups());
        assertThrows(IllegalArgumentException.class, () -> AttentionSpec.s2FromRatio(0.3));
        assertNotEquals(AttentionSpec.s2(4), AttentionSpec.shortNoShift(4));
    }

    private static float[] attend(float[] q, float[] k, float[] v, int group, boolean shift) {
        Tensor out = BE.allocate(T, H * D);
        Tensor qt = BE.allocate(T, H * D);
        Tensor kt = BE.allocate(T, HKV * D);
        Tensor vt = BE.allocate(T, HKV * D);
        BE.upload(qt, q);
        BE.upload(kt, k);
        BE.upload(vt, v);
        BE.attentionForward(out, BE.allocate(H, T), qt, kt, vt, H, HKV, group, shift);
        return BE.download(out);
    }

    /** Softmax attention in double with the mask stated by the method: seg(p) = floor((p + s) / G), key <= query. */
    private static double[] reference(float[] q, float[] k, float[] v, int g, boolean shift) {
        double[] out = new double[T * H * D];
        for (int h = 0; h < H; h++) {
            int s = shift && h >= H / 2 ? g / 2 : 0;
            int kvh = h / (H / HKV);
            for (int i = 0; i < T; i++) {
                double[] w = new double[T];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    if ((j + s) / g != (i + s) / g) {
                        w[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int c = 0; c < D; c++) {
                        dot += (double) q[i * H * D + h * D + c] * k[j * HKV * D + kvh * D + c];
                    }
                    w[j] = dot / Math.sqrt(D);
                    max = Math.max(max, w[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    w[j] = Math.exp(w[j] - max);
                    sum += w[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int c = 0; c < D; c++) {
                        out[i * H * D + h * D + c] += w[j] / sum * v[j * HKV * D + kvh * D + c];
                    }
                }
            }
        }
        return out;
    }
}

package dev.longlora.trainer.backend;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** The CPU matmul against a plain double-precision triple loop, for every transpose case and awkward sizes. */
class GemmTest {

    @Test
    void allTransposeCasesAndEdgeSizes() {
        try (CpuBackend be = new CpuBackend(2)) {
            int[][] sizes = {
                {1, 1, 1},
                {5, 3, 7},
                {4, 32, 16},
                {67, 45, 300},
                {130, 8, 513},
                {300, 257, 33},
                {1, 300, 600},
                {3, 70, 257}
            };
            for (int[] s : sizes) {
                int m = s[0], n = s[1], k = s[2];
                for (int mode = 0; mode < 4; mode++) {
                    boolean ta = (mode & 1) != 0, tb = (mode & 2) != 0;
                    float[] a = random(m * k, 0, 1, m + 31L * k);
                    float[] b = random(k * n, 0, 1, n + 17L * k);
                    float[] c0 = random(m * n, 0, 1, 5);
                    Tensor at = be.allocate(ta ? new int[] {k, m} : new int[] {m, k});
                    Tensor bt = be.allocate(tb ? new int[] {n, k} : new int[] {k, n});
                    Tensor ct = be.allocate(m, n);
                    be.upload(at, a);
                    be.upload(bt, b);
                    be.upload(ct, c0);
                    be.matmul(ct, at, ta, bt, tb, 0.5f, 2f);
                    float[] c = be.download(ct);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int p = 0; p < k; p++) {
                                double x = ta ? a[p * m + i] : a[i * k + p];
                                double y = tb ? b[j * k + p] : b[p * n + j];
                                sum += x * y;
                            }
                            double expected = 0.5 * sum + 2 * c0[i * n + j];
                            assertEquals(
                                    expected,
                                    c[i * n + j],
                                    1e-4 * (1 + Math.abs(expected)),
                                    "m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " at " + i
                                            + "," + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aFewRowsTimesATransposedWeightHaveTheBitsOfTheSameRowsInALargerProduct() {
        // Decoding multiplies one token by HF's [out, in] weights; the training forward multiplies many tokens.
        int m = 40, n = 333, k = 700;
        float[] x = random(m * k, 0, 1, 1);
        float[] w = random(n * k, 0, 1, 2);
        float[] c0 = random(m * n, 0, 1, 3);
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend be = new CpuBackend(threads)) {
                float[] all = product(be, x, m, w, n, k, c0);
                for (int rows : new int[] {1, 5}) {
                    float[] few = product(
                            be,
                            java.util.Arrays.copyOfRange(x, 7 * k, (7 + rows) * k),
                            rows,
                            w,
                            n,
                            k,
                            java.util.Arrays.copyOfRange(c0, 7 * n, (7 + rows) * n));
                    assertArrayEquals(java.util.Arrays.copyOfRange(all, 7 * n, (7 + rows) * n), few, rows + " rows");
                }
            }
        }
    }

    /** 0.5 x w^T + 2 c0 for x [m, k] and w [n, k]. */
    private static float[] product(CpuBackend be, float[] x, int m, float[] w, int n, int k, float[] c0) {
        try (Tensor xt = be.allocate(m, k);
                Tensor wt = be.allocate(n, k);
                Tensor ct = be.allocate(m, n)) {
            be.upload(xt, x);
            be.upload(wt, w);
            be.upload(ct, c0);
            be.matmul(ct, xt, false, wt, true, 0.5f, 2f);
            return be.download(ct);
        }
    }

    @Test
    void betaZeroIgnoresNanAndShapeMismatchIsRejected() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor a = be.allocate(2, 3);
            Tensor b = be.allocate(3, 2);
            Tensor c = be.allocate(2, 2);
            be.upload(c, new float[] {Float.NaN, 1, 2, 3});
            be.matmul(c, a, false, b, false, 1f, 0f);
            for (float f : be.download(c)) {
                assertEquals(0f, f);
            }
            assertThrows(IllegalArgumentException.class, () -> be.matmul(c, a, false, a, false, 1f, 0f));
        }
    }
}

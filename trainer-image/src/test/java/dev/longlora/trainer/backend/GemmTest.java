package dev.longlora.trainer.backend;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** The CPU matmul against a plain double-precision triple loop, for every transpose case and awkward sizes. */
class GemmTest {

    @Test
    void allTransposeCasesAndEdgeSizes() {
        try (CpuBackend be = new CpuBackend(2)) {
            int[][] sizes = {{1, 1, 1}, {5, 3, 7}, {4, 32, 16}, {67, 45, 300}, {130, 8, 513}, {300, 257, 33}};
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

package dev.longlora.trainer.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The serial matrix-multiply kernel shared by the GEMM and the attention: C[m, n] = alpha * A[m, k] * B[k, n] +
 * beta * C on row-major blocks with leading dimensions. C is first scaled by beta, then accumulated in tiles of
 * {@value #MR} rows x 2 vectors held in registers (A broadcast, B streamed), with masked edges.
 *
 * <p>The inner kernel is written out without helper calls on purpose: C2 must inline and intrinsify every vector
 * op in it, and a helper taking vectors as arguments that misses its inlining budget forces the vectors to be boxed
 * (heap-allocated) on every call, which made the whole GEMM several times slower.
 */
final class TileKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    static final int NR = 2 * V;
    static final int MR = 6;
    static final int KB = 256;

    private TileKernel() {}

    /** c[co + i*ldc + j] = alpha * sum_p a[ao + i*lda + p] * b[bo + p*ldb + j] + beta * c[...], i < m, j < n. */
    static void multiply(
            float[] a,
            int ao,
            int lda,
            float[] b,
            int bo,
            int ldb,
            float[] c,
            int co,
            int ldc,
            int m,
            int n,
            int k,
            float alpha,
            float beta) {
        if (beta != 1f) {
            for (int i = 0; i < m; i++) {
                int row = co + i * ldc;
                if (beta == 0f) {
                    Arrays.fill(c, row, row + n, 0f);
                } else {
                    for (int j = row; j < row + n; j++) {
                        c[j] *= beta;
                    }
                }
            }
        }
        // k in blocks of KB so that a B strip (KB x 2 vectors) stays in L1 while all row tiles pass over it.
        for (int kb = 0; kb < k; kb += KB) {
            int kl = Math.min(KB, k - kb);
            int mFull = m - m % MR;
            int nFull = n - n % NR;
            for (int j = 0; j < nFull; j += NR) {
                for (int i = 0; i < mFull; i += MR) {
                    kernel(a, ao + i * lda + kb, lda, b, bo + kb * ldb + j, ldb, c, co + i * ldc + j, ldc, kl, alpha);
                }
            }
            if (nFull < n) {
                for (int i = 0; i < mFull; i += MR) {
                    edge(
                            a,
                            ao + i * lda + kb,
                            lda,
                            b,
                            bo + kb * ldb + nFull,
                            ldb,
                            c,
                            co + i * ldc + nFull,
                            ldc,
                            MR,
                            n - nFull,
                            kl,
                            alpha);
                }
            }
            if (mFull < m) {
                for (int j = 0; j < n; j += NR) {
                    edge(
                            a,
                            ao + mFull * lda + kb,
                            lda,
                            b,
                            bo + kb * ldb + j,
                            ldb,
                            c,
                            co + mFull * ldc + j,
                            ldc,
                            m - mFull,
                            Math.min(NR, n - j),
                            kl,
                            alpha);
                }
            }
        }
    }

    private static void kernel(
            float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc, int k, float alpha) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < k; p++) {
            int bp = bo + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ao + 0 * lda + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ao + 1 * lda + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ao + 2 * lda + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ao + 3 * lda + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ao + 4 * lda + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ao + 5 * lda + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        int o;
        o = co + 0 * ldc;
        FloatVector.fromArray(S, c, o).add(c00.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c01.mul(alpha)).intoArray(c, o + V);
        o = co + 1 * ldc;
        FloatVector.fromArray(S, c, o).add(c10.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c11.mul(alpha)).intoArray(c, o + V);
        o = co + 2 * ldc;
        FloatVector.fromArray(S, c, o).add(c20.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c21.mul(alpha)).intoArray(c, o + V);
        o = co + 3 * ldc;
        FloatVector.fromArray(S, c, o).add(c30.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c31.mul(alpha)).intoArray(c, o + V);
        o = co + 4 * ldc;
        FloatVector.fromArray(S, c, o).add(c40.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c41.mul(alpha)).intoArray(c, o + V);
        o = co + 5 * ldc;
        FloatVector.fromArray(S, c, o).add(c50.mul(alpha)).intoArray(c, o);
        FloatVector.fromArray(S, c, o + V).add(c51.mul(alpha)).intoArray(c, o + V);
    }

    /** Up to MR rows and up to 2 vectors of columns, masked. */
    private static void edge(
            float[] a,
            int ao,
            int lda,
            float[] b,
            int bo,
            int ldb,
            float[] c,
            int co,
            int ldc,
            int rowCount,
            int cols,
            int k,
            float alpha) {
        VectorMask<Float> m0 = S.indexInRange(0, cols);
        VectorMask<Float> m1 = S.indexInRange(V, cols);
        boolean two = cols > V;
        for (int r = 0; r < rowCount; r++) {
            FloatVector acc0 = FloatVector.zero(S);
            FloatVector acc1 = FloatVector.zero(S);
            int ar = ao + r * lda;
            for (int p = 0; p < k; p++) {
                FloatVector x = FloatVector.broadcast(S, a[ar + p]);
                int bp = bo + p * ldb;
                acc0 = x.fma(FloatVector.fromArray(S, b, bp, m0), acc0);
                if (two) {
                    acc1 = x.fma(FloatVector.fromArray(S, b, bp + V, m1), acc1);
                }
            }
            int cr = co + r * ldc;
            FloatVector.fromArray(S, c, cr, m0).add(acc0.mul(alpha)).intoArray(c, cr, m0);
            if (two) {
                FloatVector.fromArray(S, c, cr + V, m1).add(acc1.mul(alpha)).intoArray(c, cr + V, m1);
            }
        }
    }
}

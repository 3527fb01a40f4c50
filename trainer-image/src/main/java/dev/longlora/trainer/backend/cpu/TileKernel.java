package dev.longlora.trainer.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The serial matrix-multiply kernel shared by the GEMM and the attention: C[m, n] = alpha * A[m, k] * B[k, n] +
 * beta * C on row-major blocks with leading dimensions, computed in tiles of MR rows x 2 vectors of C held in
 * registers (A broadcast, B streamed), with masked edges.
 */
final class TileKernel {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int V = S.length();
  static final int NR = 2 * V;
  static final int MR = 6;

  private TileKernel() {}

  /** c[co + i*ldc + j] = alpha * sum_p a[ao + i*lda + p] * b[bo + p*ldb + j] + beta * c[...], i < m, j < n. */
  static void multiply(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc, int m,
      int n, int k, float alpha, float beta) {
    int i = 0;
    for (; i + MR <= m; i += MR) {
      int j = 0;
      for (; j + NR <= n; j += NR) {
        kernelRows(a, ao + i * lda, lda, b, bo + j, ldb, c, co + i * ldc + j, ldc, k, alpha, beta);
      }
      if (j < n) {
        edge(a, ao + i * lda, lda, b, bo + j, ldb, c, co + i * ldc + j, ldc, MR, n - j, k, alpha, beta);
      }
    }
    if (i < m) {
      for (int j = 0; j < n; j += NR) {
        edge(a, ao + i * lda, lda, b, bo + j, ldb, c, co + i * ldc + j, ldc, m - i, Math.min(NR, n - j), k, alpha,
            beta);
      }
    }
  }

  private static void kernelRows(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc,
      int k, float alpha, float beta) {
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
    put(c, co + 0 * ldc, c00, c01, alpha, beta);
    put(c, co + 1 * ldc, c10, c11, alpha, beta);
    put(c, co + 2 * ldc, c20, c21, alpha, beta);
    put(c, co + 3 * ldc, c30, c31, alpha, beta);
    put(c, co + 4 * ldc, c40, c41, alpha, beta);
    put(c, co + 5 * ldc, c50, c51, alpha, beta);
  }

  private static void put(float[] c, int off, FloatVector v0, FloatVector v1, float alpha, float beta) {
    if (beta == 0f) {
      v0.mul(alpha).intoArray(c, off);
      v1.mul(alpha).intoArray(c, off + V);
    } else {
      v0.mul(alpha).add(FloatVector.fromArray(S, c, off).mul(beta)).intoArray(c, off);
      v1.mul(alpha).add(FloatVector.fromArray(S, c, off + V).mul(beta)).intoArray(c, off + V);
    }
  }

  /** Up to MR rows and up to 2 vectors of columns, masked. */
  private static void edge(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc,
      int rowCount, int cols, int k, float alpha, float beta) {
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
      store(c, cr, acc0, alpha, beta, m0);
      if (two) {
        store(c, cr + V, acc1, alpha, beta, m1);
      }
    }
  }

  private static void store(float[] c, int off, FloatVector v, float alpha, float beta, VectorMask<Float> mask) {
    FloatVector out = v.mul(alpha);
    if (beta != 0f) {
      out = out.add(FloatVector.fromArray(S, c, off, mask).mul(beta));
    }
    out.intoArray(c, off, mask);
  }
}

package dev.longlora.trainer.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on row-major arrays: C[M,N] = alpha * A[M,K] * B[K,N] + beta * C. Operands given
 * transposed are first copied into row-major form, so one register-blocked kernel (4 rows x 2 vectors of C held
 * in registers, broadcast A, stream B) serves every case. Work is split over blocks of C.
 */
final class CpuGemm {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int V = S.length();
  private static final int KB = 256;

  private CpuGemm() {}

  /** c = alpha op(a) op(b) + beta c, where a is [m,k] (or [k,m] if transA), b [k,n] (or [n,k] if transB). */
  static void gemm(ForkJoinPool pool, int m, int n, int k, float[] a, boolean transA, float[] b, boolean transB,
      float alpha, float beta, float[] c) {
    float[] ar = transA ? transpose(a, k, m) : a;
    float[] br = transB ? transpose(b, n, k) : b;
    int rowBlock = m >= 256 ? 64 : Math.max(4, ((m + 7) / 8 + 3) / 4 * 4);
    int colBlock = n > 512 ? 256 : n;
    int rowBlocks = (m + rowBlock - 1) / rowBlock;
    int colBlocks = (n + colBlock - 1) / colBlock;
    int tasks = rowBlocks * colBlocks;
    Runnable all = () -> IntStream.range(0, tasks).parallel().forEach(task -> {
      int i0 = (task / colBlocks) * rowBlock;
      int j0 = (task % colBlocks) * colBlock;
      block(ar, br, c, m, n, k, i0, Math.min(m, i0 + rowBlock), j0, Math.min(n, j0 + colBlock), alpha, beta);
    });
    if ((long) m * n * k < 32_768 || tasks == 1) {
      for (int task = 0; task < tasks; task++) {
        int i0 = (task / colBlocks) * rowBlock;
        int j0 = (task % colBlocks) * colBlock;
        block(ar, br, c, m, n, k, i0, Math.min(m, i0 + rowBlock), j0, Math.min(n, j0 + colBlock), alpha, beta);
      }
    } else {
      pool.submit(all).join();
    }
  }

  static float[] transpose(float[] x, int rows, int cols) {
    float[] t = new float[rows * cols];
    final int tile = 32;
    for (int i0 = 0; i0 < rows; i0 += tile) {
      int i1 = Math.min(rows, i0 + tile);
      for (int j0 = 0; j0 < cols; j0 += tile) {
        int j1 = Math.min(cols, j0 + tile);
        for (int i = i0; i < i1; i++) {
          int src = i * cols;
          for (int j = j0; j < j1; j++) {
            t[j * rows + i] = x[src + j];
          }
        }
      }
    }
    return t;
  }

  private static void block(float[] a, float[] b, float[] c, int m, int n, int k, int i0, int i1, int j0, int j1,
      float alpha, float beta) {
    // Apply beta once, then accumulate alpha * A B panel by panel over k.
    for (int i = i0; i < i1; i++) {
      int row = i * n;
      if (beta == 0f) {
        java.util.Arrays.fill(c, row + j0, row + j1, 0f);
      } else if (beta != 1f) {
        for (int j = j0; j < j1; j++) {
          c[row + j] *= beta;
        }
      }
    }
    for (int p0 = 0; p0 < k; p0 += KB) {
      int p1 = Math.min(k, p0 + KB);
      int i = i0;
      for (; i + 4 <= i1; i += 4) {
        int j = j0;
        for (; j + 2 * V <= j1; j += 2 * V) {
          kernel4x2(a, b, c, n, k, i, j, p0, p1, alpha);
        }
        for (; j < j1; j += V) {
          edge(a, b, c, n, k, i, i + 4, j, Math.min(j1, j + V), p0, p1, alpha);
        }
      }
      for (; i < i1; i++) {
        for (int j = j0; j < j1; j += V) {
          edge(a, b, c, n, k, i, i + 1, j, Math.min(j1, j + V), p0, p1, alpha);
        }
      }
    }
  }

  private static void kernel4x2(float[] a, float[] b, float[] c, int n, int k, int i, int j, int p0, int p1,
      float alpha) {
    FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
    int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    for (int p = p0; p < p1; p++) {
      int bo = p * n + j;
      FloatVector b0 = FloatVector.fromArray(S, b, bo);
      FloatVector b1 = FloatVector.fromArray(S, b, bo + V);
      FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[a1 + p]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[a2 + p]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[a3 + p]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
    }
    store(c, i * n + j, c00, c01, alpha);
    store(c, (i + 1) * n + j, c10, c11, alpha);
    store(c, (i + 2) * n + j, c20, c21, alpha);
    store(c, (i + 3) * n + j, c30, c31, alpha);
  }

  private static void store(float[] c, int off, FloatVector v0, FloatVector v1, float alpha) {
    FloatVector.fromArray(S, c, off).add(v0.mul(alpha)).intoArray(c, off);
    FloatVector.fromArray(S, c, off + V).add(v1.mul(alpha)).intoArray(c, off + V);
  }

  private static void edge(float[] a, float[] b, float[] c, int n, int k, int i0, int i1, int j0, int j1, int p0,
      int p1, float alpha) {
    VectorMask<Float> mask = S.indexInRange(0, j1 - j0);
    for (int i = i0; i < i1; i++) {
      FloatVector acc = FloatVector.zero(S);
      int ao = i * k;
      for (int p = p0; p < p1; p++) {
        acc = FloatVector.broadcast(S, a[ao + p]).fma(FloatVector.fromArray(S, b, p * n + j0, mask), acc);
      }
      int co = i * n + j0;
      FloatVector.fromArray(S, c, co, mask).add(acc.mul(alpha)).intoArray(c, co, mask);
    }
  }
}

package dev.longlora.trainer.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Single-precision GEMM on row-major arrays: C[M,N] = alpha * op(A) * op(B) + beta * C. Operands given transposed
 * are first copied into row-major form, so one register-tiled kernel ({@link TileKernel}) serves every case; the
 * work is split over blocks of C.
 */
final class CpuGemm {
    /** Columns of C per task of a product with few rows: a multiple of the kernel's width. */
    private static final int PANEL_COLUMNS = 4 * TileKernel.NR;

    private CpuGemm() {}

    /** c = alpha op(a) op(b) + beta c, where a is [m,k] (or [k,m] if transA), b [k,n] (or [n,k] if transB). */
    static void gemm(
            ForkJoinPool pool,
            int m,
            int n,
            int k,
            float[] a,
            boolean transA,
            float[] b,
            boolean transB,
            float alpha,
            float beta,
            float[] c) {
        if (n < TileKernel.NR && m >= 4 * TileKernel.NR && transA) {
            // A narrow C from a transposed A (LoRA's dB = dY^T (xA^T)) would transpose the long A and then run on the
            // masked edge: compute C^T = op(B)^T op(A)^T instead (no transposes, long rows) and add it back transposed.
            float[] ct = new float[n * m];
            gemm(pool, n, m, k, b, !transB, a, !transA, alpha, 0f, ct);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] = (beta == 0f ? 0f : beta * c[i * n + j]) + ct[j * m + i];
                }
            }
            return;
        }
        if (transB && m < TileKernel.MR) {
            fewRowsTimesTransposed(pool, m, n, k, transA ? transpose(a, k, m) : a, b, alpha, beta, c);
            return;
        }
        float[] ar = transA ? transpose(a, k, m) : a;
        float[] br = transB ? transpose(b, n, k) : b;
        boolean wide = n > 512;
        int rowBlock = m >= 512 ? (wide ? 192 : 96) : Math.max(6, (m / 8 + 5) / 6 * 6);
        int colBlock = n > 256 ? 128 : n;
        int rowBlocks = (m + rowBlock - 1) / rowBlock;
        int colBlocks = (n + colBlock - 1) / colBlock;
        int tasks = rowBlocks * colBlocks;
        if ((long) m * n * k < 65_536 || tasks == 1 || pool.getParallelism() == 1) {
            TileKernel.multiply(ar, 0, k, br, 0, n, c, 0, n, m, n, k, alpha, beta);
            return;
        }
        pool.submit(() -> IntStream.range(0, tasks).parallel().forEach(task -> {
                    int i0 = (task / colBlocks) * rowBlock;
                    int j0 = (task % colBlocks) * colBlock;
                    int cols = Math.min(colBlock, n - j0);
                    if (wide) {
                        // Rows of a wide B are pages apart: copy the block into a contiguous panel so the kernel's
                        // k-loop stays
                        // within a few pages (TLB) and cache lines.
                        float[] panel = new float[k * cols];
                        for (int p = 0; p < k; p++) {
                            System.arraycopy(br, p * n + j0, panel, p * cols, cols);
                        }
                        TileKernel.multiply(
                                ar,
                                i0 * k,
                                k,
                                panel,
                                0,
                                cols,
                                c,
                                i0 * n + j0,
                                n,
                                Math.min(rowBlock, m - i0),
                                cols,
                                k,
                                alpha,
                                beta);
                    } else {
                        TileKernel.multiply(
                                ar,
                                i0 * k,
                                k,
                                br,
                                j0,
                                n,
                                c,
                                i0 * n + j0,
                                n,
                                Math.min(rowBlock, m - i0),
                                cols,
                                k,
                                alpha,
                                beta);
                    }
                }))
                .join();
    }

    /**
     * C = alpha A B^T + beta C for fewer rows of A than one register tile (a decoding step: one token times HF's
     * [out, in] weights). Transposing all of B would cost as much as the product and allocate a copy of the weight,
     * so each task transposes only a panel of {@link #PANEL_COLUMNS} rows of B, one k-block at a time, into a small
     * buffer. The blocks are those of {@link TileKernel#multiply} over the whole k (beta applies with the first block
     * only), so every element is computed by the same operations as in a many-row product.
     */
    private static void fewRowsTimesTransposed(
            ForkJoinPool pool, int m, int n, int k, float[] a, float[] b, float alpha, float beta, float[] c) {
        int panels = (n + PANEL_COLUMNS - 1) / PANEL_COLUMNS;
        IntConsumer panel = p -> {
            int j0 = p * PANEL_COLUMNS;
            int cols = Math.min(PANEL_COLUMNS, n - j0);
            float[] bt = new float[Math.min(k, TileKernel.KB) * cols];
            for (int kb = 0; kb < k; kb += TileKernel.KB) {
                int kl = Math.min(TileKernel.KB, k - kb);
                for (int j = 0; j < cols; j++) {
                    int src = (j0 + j) * k + kb;
                    for (int q = 0; q < kl; q++) {
                        bt[q * cols + j] = b[src + q];
                    }
                }
                TileKernel.multiply(a, kb, k, bt, 0, cols, c, j0, n, m, cols, kl, alpha, kb == 0 ? beta : 1f);
            }
        };
        if ((long) m * n * k < 65_536 || panels == 1 || pool.getParallelism() == 1) {
            for (int p = 0; p < panels; p++) {
                panel.accept(p);
            }
            return;
        }
        pool.submit(() -> IntStream.range(0, panels).parallel().forEach(panel)).join();
    }

    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[rows * cols];
        transposeInto(x, rows, cols, t);
        return t;
    }

    /** t[j, i] = x[i, j] for the leading rows x cols elements of x (t may be longer than needed). */
    static void transposeInto(float[] x, int rows, int cols, float[] t) {
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
    }
}

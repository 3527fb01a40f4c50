package dev.longlora.trainer.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention inside segments (full, S2 with half the heads shifted by G/2, or unshifted groups), with
 * grouped-query heads read in place (query head h uses KV head h / (H / Hkv), nothing repeated). Work is split
 * into tiles of up to 64 queries of one head and segment; each tile's scores, probabilities and gradients are
 * register-tiled matrix products ({@link TileKernel}); backward recomputes the probabilities from the stored
 * log-sum-exp, FlashAttention style.
 */
final class CpuAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final int QUERY_BLOCK = 64;

    private CpuAttention() {}

    /** A run of query rows [q0, q1) of head h whose keys come from the segment starting at s0. */
    private record Task(int head, int s0, int s1, int q0, int q1) {}

    /** The segments of head h: [start, end) pairs, per longlora-method.md section 2 (no wrap-around). */
    static List<int[]> segments(int t, int groupSize, boolean shifted) {
        List<int[]> out = new ArrayList<>();
        int shift = shifted ? groupSize / 2 : 0;
        for (int seg = 0; seg * groupSize - shift < t; seg++) {
            int start = Math.max(0, seg * groupSize - shift);
            int end = Math.min(t, seg * groupSize - shift + groupSize);
            if (end > start) {
                out.add(new int[] {start, end});
            }
        }
        return out;
    }

    private static List<Task> tasks(int t, int heads, int groupSize, boolean shiftHalf, boolean splitQueries) {
        List<Task> tasks = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            boolean shifted = shiftHalf && h >= heads / 2;
            for (int[] seg : segments(t, groupSize, shifted)) {
                if (!splitQueries) {
                    tasks.add(new Task(h, seg[0], seg[1], seg[0], seg[1]));
                    continue;
                }
                for (int q0 = seg[0]; q0 < seg[1]; q0 += QUERY_BLOCK) {
                    tasks.add(new Task(h, seg[0], seg[1], q0, Math.min(seg[1], q0 + QUERY_BLOCK)));
                }
            }
        }
        // Longest first, so the causal triangle's heavy blocks do not end up last on one thread.
        tasks.sort((a, b) -> Long.compare(
                (long) b.q1 * b.q1 - (long) b.q0 * b.q0 - 2L * b.s0 * (b.q1 - b.q0),
                (long) a.q1 * a.q1 - (long) a.q0 * a.q0 - 2L * a.s0 * (a.q1 - a.q0)));
        return tasks;
    }

    static void forward(
            ForkJoinPool pool,
            float[] out,
            float[] lse,
            float[] q,
            float[] k,
            float[] v,
            int t,
            int heads,
            int kvHeads,
            int d,
            int groupSize,
            boolean shiftHalf) {
        List<Task> tasks = tasks(t, heads, groupSize, shiftHalf, true);
        pool.submit(() -> tasks.parallelStream()
                        .forEach(task -> forwardTask(task, out, lse, q, k, v, t, heads, kvHeads, d)))
                .join();
    }

    private static void forwardTask(
            Task task,
            float[] out,
            float[] lse,
            float[] q,
            float[] k,
            float[] v,
            int t,
            int heads,
            int kvHeads,
            int d) {
        int kvh = task.head / (heads / kvHeads);
        int kc = kvHeads * d;
        float[] kT = transposeKeys(k, task.s0, task.q1 - task.s0, kc, kvh * d, d, roundUp(task.q1 - task.s0));
        forwardTile(task.head, task.s0, task.q0, task.q1, q, out, 0, kT, v, kvh * d, kc, lse, task.head * t, heads, d);
    }

    /**
     * Causal attention of query head h at positions [q0, q1) over the keys from position s0 on. The query and output
     * row of position i is i - rowBase; kT holds the keys of positions [s0, q1) or more, transposed
     * ({@link #transposeKeys}); value j of this head is at v[vOffset + j * vStride], d floats; lse of position i goes
     * to lse[lseOffset + i] (lse may be null). An output row depends only on its own query and keys: the tiling (which
     * rows share a tile, how many keys beyond the diagonal a tile reads) changes no value.
     */
    private static void forwardTile(
            int h,
            int s0,
            int q0,
            int q1,
            float[] q,
            float[] out,
            int rowBase,
            float[] kT,
            float[] v,
            int vOffset,
            int vStride,
            float[] lse,
            int lseOffset,
            int heads,
            int d) {
        int qc = heads * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        int rows = q1 - q0;
        int nKeys = q1 - s0;
        int ld = roundUp(nKeys);
        int ldk = kT.length / d;
        int qo = (q0 - rowBase) * qc + h * d;
        // S = Q K^T for the whole tile (the part above the diagonal is masked below), then P = softmax(scale * S)
        // row by row, then O = P V: two register-tiled matrix products.
        float[] p = new float[rows * ld];
        // p is fresh (zero), so accumulate (beta 1) rather than pay for clearing it again.
        TileKernel.multiply(q, qo, qc, kT, 0, ldk, p, 0, ld, rows, nKeys, d, scale, 1f);
        for (int r = 0; r < rows; r++) {
            int i = q0 + r;
            int nk = i - s0 + 1;
            float l = softmaxRow(p, r * ld, nk, ld);
            if (lse != null) {
                lse[lseOffset + i] = l;
            }
        }
        TileKernel.multiply(p, 0, ld, v, s0 * vStride + vOffset, vStride, out, qo, qc, rows, d, nKeys, 1f, 0f);
    }

    /**
     * Decoding: stores k and v [n, Hkv*d] of the tokens at positions [start, start + n) in the caches [Hkv, capacity,
     * d], then runs full causal attention of their queries over cached positions 0..start+t. A task is one KV head
     * and query block, whose keys are transposed once for all the query heads that share them. The tiles compute what
     * those of {@link #forward} compute, so every output row has the values of the same row of a forward over the
     * whole sequence.
     */
    static void forwardCached(
            ForkJoinPool pool,
            float[] out,
            float[] q,
            float[] k,
            float[] v,
            float[] keyCache,
            float[] valueCache,
            int n,
            int start,
            int capacity,
            int heads,
            int kvHeads,
            int d) {
        int kc = kvHeads * d;
        for (int t = 0; t < n; t++) {
            for (int g = 0; g < kvHeads; g++) {
                int dst = (g * capacity + start + t) * d;
                System.arraycopy(k, t * kc + g * d, keyCache, dst, d);
                System.arraycopy(v, t * kc + g * d, valueCache, dst, d);
            }
        }
        List<int[]> tiles = new ArrayList<>();
        for (int g = 0; g < kvHeads; g++) {
            for (int q0 = start; q0 < start + n; q0 += QUERY_BLOCK) {
                tiles.add(new int[] {g, q0, Math.min(start + n, q0 + QUERY_BLOCK)});
            }
        }
        // Longest first, as in the forward: a prefill's late query blocks read the most keys.
        tiles.sort((a, b) -> Integer.compare(b[2], a[2]));
        int group = heads / kvHeads;
        pool.submit(() -> tiles.parallelStream().forEach(tile -> {
                    int g = tile[0];
                    int keys = tile[2];
                    int offset = g * capacity * d;
                    float[] kT = transposeKeys(keyCache, 0, keys, d, offset, d, roundUp(keys));
                    for (int h = g * group; h < (g + 1) * group; h++) {
                        forwardTile(h, 0, tile[1], keys, q, out, start, kT, valueCache, offset, d, null, 0, heads, d);
                    }
                }))
                .join();
    }

    /**
     * In place on row[off, off+ld): exp(x - lse) normalised over the first nk entries, zero beyond; returns lse.
     */
    private static float softmaxRow(float[] x, int off, int nk, int ld) {
        int nkPad = roundUp(nk);
        for (int j = nk; j < nkPad; j++) {
            x[off + j] = Float.NEGATIVE_INFINITY;
        }
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < nkPad; j += V) {
            mv = mv.max(FloatVector.fromArray(S, x, off + j));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < nkPad; j += V) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, off + j).sub(max));
            e.intoArray(x, off + j);
            sum = sum.add(e);
        }
        float l = VectorMath.sumLanes(sum);
        float inv = 1f / l;
        for (int j = 0; j < nkPad; j += V) {
            FloatVector.fromArray(S, x, off + j).mul(inv).intoArray(x, off + j);
        }
        java.util.Arrays.fill(x, off + nkPad, off + ld, 0f);
        return max + (float) StrictMath.log(l);
    }

    static void backward(
            ForkJoinPool pool,
            float[] dq,
            float[] dk,
            float[] dv,
            float[] dOut,
            float[] q,
            float[] k,
            float[] v,
            float[] out,
            float[] lse,
            int t,
            int heads,
            int kvHeads,
            int d,
            int groupSize,
            boolean shiftHalf) {
        List<Task> tasks = tasks(t, heads, groupSize, shiftHalf, false);
        // Per-query-head key/value gradients keep tasks race-free; they are summed into each KV head at the end.
        float[][] dkHead = new float[heads][t * d];
        float[][] dvHead = new float[heads][t * d];
        pool.submit(() -> tasks.parallelStream()
                        .forEach(task -> backwardTask(
                                task,
                                dq,
                                dkHead[task.head],
                                dvHead[task.head],
                                dOut,
                                q,
                                k,
                                v,
                                out,
                                lse,
                                t,
                                heads,
                                kvHeads,
                                d)))
                .join();
        int group = heads / kvHeads;
        int kc = kvHeads * d;
        pool.submit(() -> IntStream.range(0, t).parallel().forEach(i -> {
                    for (int h = 0; h < heads; h++) {
                        int dst = i * kc + (h / group) * d;
                        float[] gk = dkHead[h];
                        float[] gv = dvHead[h];
                        for (int c = 0; c < d; c++) {
                            dk[dst + c] += gk[i * d + c];
                            dv[dst + c] += gv[i * d + c];
                        }
                    }
                }))
                .join();
    }

    private static void backwardTask(
            Task task,
            float[] dq,
            float[] dkh,
            float[] dvh,
            float[] dOut,
            float[] q,
            float[] k,
            float[] v,
            float[] out,
            float[] lse,
            int t,
            int heads,
            int kvHeads,
            int d) {
        int h = task.head;
        int kvh = h / (heads / kvHeads);
        int qc = heads * d;
        int kc = kvHeads * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        int segKeys = task.s1 - task.s0;
        int ldSeg = roundUp(segKeys);
        float[] kT = transposeKeys(k, task.s0, segKeys, kc, kvh * d, d, ldSeg);
        float[] vT = transposeKeys(v, task.s0, segKeys, kc, kvh * d, d, ldSeg);
        int ko = task.s0 * kc + kvh * d;
        for (int q0 = task.s0; q0 < task.s1; q0 += QUERY_BLOCK) {
            int q1 = Math.min(task.s1, q0 + QUERY_BLOCK);
            int rows = q1 - q0;
            int nKeys = q1 - task.s0;
            int ld = roundUp(nKeys);
            int qo = q0 * qc + h * d;
            // P = exp(scale * Q K^T - lse), recomputed; dP = dO V^T; dS = P * (dP - rowsum(dO * O)).
            float[] p = new float[rows * ld];
            float[] ds = new float[rows * ld];
            TileKernel.multiply(q, qo, qc, kT, 0, ldSeg, p, 0, ld, rows, nKeys, d, scale, 1f);
            TileKernel.multiply(dOut, qo, qc, vT, 0, ldSeg, ds, 0, ld, rows, nKeys, d, 1f, 1f);
            for (int r = 0; r < rows; r++) {
                int i = q0 + r;
                int nk = i - task.s0 + 1;
                float di = 0f;
                for (int c = 0; c < d; c++) {
                    di += dOut[qo + r * qc + c] * out[qo + r * qc + c];
                }
                float li = lse[h * t + i];
                int off = r * ld;
                int nkPad = roundUp(nk);
                for (int j = 0; j < nkPad; j += V) {
                    FloatVector pj =
                            VectorMath.exp(FloatVector.fromArray(S, p, off + j).sub(li));
                    pj.intoArray(p, off + j);
                    pj.mul(FloatVector.fromArray(S, ds, off + j).sub(di)).intoArray(ds, off + j);
                }
                java.util.Arrays.fill(p, off + nk, off + ld, 0f);
                java.util.Arrays.fill(ds, off + nk, off + ld, 0f);
            }
            // dQ += scale * dS K
            TileKernel.multiply(ds, 0, ld, k, ko, kc, dq, qo, qc, rows, d, nKeys, scale, 1f);
            // dK += scale * dS^T Q ; dV += P^T dO
            float[] dsT = transpose(ds, rows, ld, nKeys);
            float[] pT = transpose(p, rows, ld, nKeys);
            TileKernel.multiply(dsT, 0, rows, q, qo, qc, dkh, task.s0 * d, d, nKeys, d, rows, scale, 1f);
            TileKernel.multiply(pT, 0, rows, dOut, qo, qc, dvh, task.s0 * d, d, nKeys, d, rows, 1f, 1f);
        }
    }

    /** The [cols, rows] transpose of the first cols columns of a [rows, ld] matrix. */
    private static float[] transpose(float[] x, int rows, int ld, int cols) {
        float[] t = new float[cols * rows];
        for (int r = 0; r < rows; r++) {
            int o = r * ld;
            for (int j = 0; j < cols; j++) {
                t[j * rows + r] = x[o + j];
            }
        }
        return t;
    }

    /** The [d, ld] transpose of rows [s0, s0+n) of one head (columns [col, col+d)) of a [T, stride] matrix. */
    private static float[] transposeKeys(float[] m, int s0, int n, int stride, int col, int d, int ld) {
        float[] t = new float[d * ld];
        for (int j = 0; j < n; j++) {
            int src = (s0 + j) * stride + col;
            for (int c = 0; c < d; c++) {
                t[c * ld + j] = m[src + c];
            }
        }
        return t;
    }

    private static int roundUp(int n) {
        return (n + V - 1) / V * V;
    }
}

package dev.longlora.trainer.backend.cpu;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.BackendChecks;
import dev.longlora.trainer.backend.KvCacheLayout;
import dev.longlora.trainer.backend.MatmulShape;
import dev.longlora.trainer.backend.Tensor;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The reference backend: fp32 tensors in Java arrays, work split over a {@link ForkJoinPool} of a chosen size, hot
 * loops (matmul, attention, norms) written with the Vector API.
 */
public final class CpuBackend implements Backend {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    /**
     * Rows of logits the fused LM head computes at once: its buffers hold 2 x 256 x V floats (65 MB at V = 32000)
     * whatever the sequence length, instead of the T x V logits (4 GB at 32k tokens). 256 rows keep the GEMMs in
     * their efficient shape; fewer would only re-read the LM-head weight more often.
     */
    public static final int LOSS_CHUNK_ROWS = 256;

    private final ForkJoinPool pool;
    private final int threads;
    private final int lossChunkRows;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final ConcurrentHashMap<String, float[][]> ropeTables = new ConcurrentHashMap<>();

    /** A backend using every available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend using {@code threads} worker threads. */
    public CpuBackend(int threads) {
        this(threads, LOSS_CHUNK_ROWS);
    }

    /**
     * A backend using {@code threads} worker threads whose fused LM head ({@link #lmHeadCrossEntropy}) computes
     * {@code lossChunkRows} rows of logits at a time (tests compare chunk sizes; one chunk of all rows is the
     * arithmetic of the unfused ops).
     */
    public CpuBackend(int threads, int lossChunkRows) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads=" + threads + " must be at least 1");
        }
        if (lossChunkRows < 1) {
            throw new IllegalArgumentException("lossChunkRows=" + lossChunkRows + " must be at least 1");
        }
        this.threads = threads;
        this.lossChunkRows = lossChunkRows;
        this.pool = new ForkJoinPool(threads);
    }

    @Override
    public String name() {
        return "cpu(" + threads + " threads, " + V * 32 + "-bit vectors)";
    }

    @Override
    public void close() {
        pool.shutdown();
    }

    private static float[] d(Tensor t) {
        return ((CpuTensor) t).data;
    }

    private void parallelFor(int n, IntConsumer body) {
        if (n <= 1 || threads == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        pool.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
    }

    /** Runs body over [0, n) in about 4*threads contiguous chunks: body(start, end). */
    private void chunks(int n, ChunkBody body) {
        int pieces = Math.max(1, Math.min(4 * threads, n / 4096));
        int size = (n + pieces - 1) / pieces;
        parallelFor(pieces, p -> {
            int s = p * size;
            int e = Math.min(n, s + size);
            if (s < e) {
                body.run(s, e);
            }
        });
    }

    private interface ChunkBody {
        void run(int start, int end);
    }

    // ---- memory -----------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(int... shape) {
        long n = BackendChecks.numel(shape);
        CpuTensor t = new CpuTensor(this, shape, n);
        long now = bytes.addAndGet(4 * n);
        peak.accumulateAndGet(now, Math::max);
        return t;
    }

    void released(CpuTensor t) {
        bytes.addAndGet(-4L * t.data.length);
    }

    @Override
    public void upload(Tensor t, float[] data) {
        float[] dst = d(t);
        BackendChecks.uploadLength(t, data);
        System.arraycopy(data, 0, dst, 0, dst.length);
    }

    @Override
    public float[] download(Tensor t) {
        return d(t).clone();
    }

    @Override
    public long bytesInUse() {
        return bytes.get();
    }

    @Override
    public long peakBytes() {
        return peak.get();
    }

    @Override
    public void resetPeakBytes() {
        peak.set(bytes.get());
    }

    // ---- elementwise ------------------------------------------------------------------------------------

    @Override
    public void copy(Tensor dst, Tensor src) {
        float[] a = d(src);
        float[] b = d(dst);
        BackendChecks.sameSize(dst, src, "copy");
        System.arraycopy(a, 0, b, 0, a.length);
    }

    @Override
    public void zero(Tensor t) {
        Arrays.fill(d(t), 0f);
    }

    @Override
    public void scale(Tensor x, float a) {
        float[] xs = d(x);
        chunks(xs.length, (s, e) -> {
            for (int i = s; i < e; i++) {
                xs[i] *= a;
            }
        });
    }

    @Override
    public void axpy(float a, Tensor x, Tensor y) {
        float[] xs = d(x);
        float[] ys = d(y);
        BackendChecks.sameSize(x, y, "axpy");
        chunks(xs.length, (s, e) -> {
            int i = s;
            for (; i + V <= e; i += V) {
                FloatVector.fromArray(S, xs, i)
                        .mul(a)
                        .add(FloatVector.fromArray(S, ys, i))
                        .intoArray(ys, i);
            }
            for (; i < e; i++) {
                ys[i] += a * xs[i];
            }
        });
    }

    @Override
    public double sumOfSquares(Tensor x) {
        float[] xs = d(x);
        double sum = 0;
        for (float f : xs) {
            sum += (double) f * f;
        }
        return sum;
    }

    // ---- matmul -----------------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta) {
        MatmulShape s = BackendChecks.matmul(c, a, transA, b, transB);
        CpuGemm.gemm(pool, s.m(), s.n(), s.k(), d(a), transA, d(b), transB, alpha, beta, d(c));
    }

    // ---- layers -----------------------------------------------------------------------------------------

    @Override
    public void embeddingForward(Tensor out, Tensor table, int[] tokens) {
        BackendChecks.tokensInVocabulary(tokens, table.rows());
        int c = table.cols();
        float[] o = d(out);
        float[] w = d(table);
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(w, tokens[t] * c, o, t * c, c);
        }
    }

    @Override
    public void embeddingBackward(Tensor dTable, Tensor dOut, int[] tokens) {
        BackendChecks.tokensInVocabulary(tokens, dTable.rows());
        int c = dTable.cols();
        float[] g = d(dTable);
        float[] go = d(dOut);
        for (int t = 0; t < tokens.length; t++) {
            int dst = tokens[t] * c;
            int src = t * c;
            for (int i = 0; i < c; i++) {
                g[dst + i] += go[src + i];
            }
        }
    }

    @Override
    public void rmsnormForward(Tensor out, Tensor rstd, Tensor x, Tensor w, float eps) {
        int c = x.cols();
        float[] xs = d(x);
        float[] os = d(out);
        float[] rs = d(rstd);
        float[] ws = d(w);
        parallelFor(x.rows(), t -> {
            int o = t * c;
            double ss = 0;
            for (int i = 0; i < c; i++) {
                ss += (double) xs[o + i] * xs[o + i];
            }
            float r = (float) (1.0 / Math.sqrt(ss / c + eps));
            rs[t] = r;
            for (int i = 0; i < c; i++) {
                os[o + i] = xs[o + i] * r * ws[i];
            }
        });
    }

    @Override
    public void rmsnormBackward(Tensor dx, Tensor dw, Tensor dOut, Tensor x, Tensor w, Tensor rstd) {
        int c = x.cols();
        int rows = x.rows();
        float[] xs = d(x);
        float[] g = d(dOut);
        float[] ws = d(w);
        float[] rs = d(rstd);
        float[] dxs = d(dx);
        parallelFor(rows, t -> {
            int o = t * c;
            float r = rs[t];
            // dx = r * (g*w - xhat * mean(g*w*xhat)), xhat = x*r
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += (double) g[o + i] * ws[i] * xs[o + i] * r;
            }
            float mean = (float) (dot / c);
            for (int i = 0; i < c; i++) {
                float xhat = xs[o + i] * r;
                dxs[o + i] += r * (g[o + i] * ws[i] - xhat * mean);
            }
        });
        if (dw != null) {
            float[] dws = d(dw);
            for (int t = 0; t < rows; t++) {
                int o = t * c;
                float r = rs[t];
                for (int i = 0; i < c; i++) {
                    dws[i] += g[o + i] * xs[o + i] * r;
                }
            }
        }
    }

    /**
     * cos and sin tables [positions, d/2] for the angles (p / factor) * theta^(-2i/d), computed in double. One table
     * per (d, theta, factor), grown by doubling when a longer sequence or a later decoding position needs more rows:
     * an entry depends only on its position, so a grown table agrees with the old one on every row they share.
     */
    private float[][] ropeTable(int positions, int dim, float theta, float factor) {
        String key = dim + ":" + theta + ":" + factor;
        int half = dim / 2;
        float[][] known = ropeTables.get(key);
        if (known != null && known[0].length >= positions * half) {
            return known;
        }
        return ropeTables.compute(key, (unused, old) -> {
            int have = old == null ? 0 : old[0].length / half;
            if (have >= positions) {
                return old;
            }
            int rows = old == null ? positions : Math.max(positions, 2 * have);
            float[] cos = new float[rows * half];
            float[] sin = new float[rows * half];
            for (int p = 0; p < rows; p++) {
                double pos = p / (double) factor;
                for (int i = 0; i < half; i++) {
                    double angle = pos * StrictMath.pow(theta, -2.0 * i / dim);
                    cos[p * half + i] = (float) StrictMath.cos(angle);
                    sin[p * half + i] = (float) StrictMath.sin(angle);
                }
            }
            return new float[][] {cos, sin};
        });
    }

    @Override
    public void ropeForward(Tensor x, int heads, float theta, float factor, int startPosition) {
        rope(x, heads, theta, factor, startPosition, 1f);
    }

    @Override
    public void ropeBackward(Tensor dx, int heads, float theta, float factor) {
        rope(dx, heads, theta, factor, 0, -1f);
    }

    private void rope(Tensor x, int heads, float theta, float factor, int start, float direction) {
        if (start < 0) {
            throw new IllegalArgumentException("rope: start position " + start + " is negative");
        }
        int cols = x.cols();
        int dim = BackendChecks.ropeHeadDim(x, heads);
        int half = dim / 2;
        float[][] table = ropeTable(start + x.rows(), dim, theta, factor);
        float[] cos = table[0];
        float[] sin = table[1];
        float[] xs = d(x);
        parallelFor(x.rows(), t -> {
            int row = (start + t) * half;
            for (int h = 0; h < heads; h++) {
                int o = t * cols + h * dim;
                for (int i = 0; i < half; i++) {
                    float cs = cos[row + i];
                    float sn = direction * sin[row + i];
                    float a = xs[o + i];
                    float b = xs[o + i + half];
                    xs[o + i] = a * cs - b * sn;
                    xs[o + i + half] = b * cs + a * sn;
                }
            }
        });
    }

    @Override
    public void attentionForward(
            Tensor out,
            Tensor lse,
            Tensor q,
            Tensor k,
            Tensor v,
            int heads,
            int kvHeads,
            int groupSize,
            boolean shiftHalf) {
        int t = q.rows();
        int dim = BackendChecks.attentionHeadDim(q, k, heads, kvHeads, groupSize, shiftHalf);
        CpuAttention.forward(pool, d(out), d(lse), d(q), d(k), d(v), t, heads, kvHeads, dim, groupSize, shiftHalf);
    }

    @Override
    public void attentionBackward(
            Tensor dq,
            Tensor dk,
            Tensor dv,
            Tensor dOut,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            int heads,
            int kvHeads,
            int groupSize,
            boolean shiftHalf) {
        int t = q.rows();
        int dim = BackendChecks.attentionHeadDim(q, k, heads, kvHeads, groupSize, shiftHalf);
        CpuAttention.backward(
                pool, d(dq), d(dk), d(dv), d(dOut), d(q), d(k), d(v), d(out), d(lse), t, heads, kvHeads, dim, groupSize,
                shiftHalf);
    }

    @Override
    public void cachedAttentionForward(
            Tensor out,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor keyCache,
            Tensor valueCache,
            int start,
            int heads,
            int kvHeads) {
        int n = q.rows();
        int dim = q.cols() / heads;
        int capacity = KvCacheLayout.check(out, q, k, v, keyCache, valueCache, start, heads, kvHeads);
        CpuAttention.forwardCached(
                pool, d(out), d(q), d(k), d(v), d(keyCache), d(valueCache), n, start, capacity, heads, kvHeads, dim);
    }

    @Override
    public void swigluForward(Tensor h, Tensor gate, Tensor up) {
        BackendChecks.sameSize(h, gate, "swiglu");
        float[] hs = d(h);
        float[] g = d(gate);
        float[] u = d(up);
        chunks(hs.length, (s, e) -> {
            int i = s;
            for (; i + V <= e; i += V) {
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector sig = VectorMath.sigmoid(gv);
                gv.mul(sig).mul(FloatVector.fromArray(S, u, i)).intoArray(hs, i);
            }
            // The tail repeats the lane operations exactly, so chunk boundaries (thread count) never change a value.
            for (; i < e; i++) {
                float sig = VectorMath.sigmoid(g[i]);
                hs[i] = g[i] * sig * u[i];
            }
        });
    }

    @Override
    public void swigluBackward(Tensor dGate, Tensor dUp, Tensor dh, Tensor gate, Tensor up) {
        BackendChecks.sameSize(dh, gate, "swiglu backward");
        float[] dg = d(dGate);
        float[] du = d(dUp);
        float[] gh = d(dh);
        float[] g = d(gate);
        float[] u = d(up);
        chunks(g.length, (s, e) -> {
            int i = s;
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (; i + V <= e; i += V) {
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector sig = VectorMath.sigmoid(gv);
                FloatVector ghv = FloatVector.fromArray(S, gh, i);
                FloatVector uv = FloatVector.fromArray(S, u, i);
                // d silu(g)/dg = sig * (1 + g * (1 - sig))
                FloatVector dsilu = sig.mul(one.add(gv.mul(one.sub(sig))));
                ghv.mul(uv).fma(dsilu, FloatVector.fromArray(S, dg, i)).intoArray(dg, i);
                ghv.mul(gv.mul(sig)).add(FloatVector.fromArray(S, du, i)).intoArray(du, i);
            }
            for (; i < e; i++) {
                float sig = VectorMath.sigmoid(g[i]);
                float dsilu = sig * (1f + g[i] * (1f - sig));
                dg[i] = Math.fma(gh[i] * u[i], dsilu, dg[i]);
                du[i] = gh[i] * (g[i] * sig) + du[i];
            }
        });
    }

    /** Uniform [0,1) from a counter-based hash of (seed, index): the same mask on every backend and in backward. */
    static float dropoutUniform(long seed, long index) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * 0x1.0p-24f;
    }

    @Override
    public void dropoutForward(Tensor out, Tensor x, float p, long seed) {
        float[] xs = d(x);
        float[] os = d(out);
        float keep = 1f / (1f - p);
        chunks(xs.length, (s, e) -> {
            for (int i = s; i < e; i++) {
                os[i] = dropoutUniform(seed, i) < p ? 0f : xs[i] * keep;
            }
        });
    }

    @Override
    public void dropoutBackward(Tensor dx, Tensor dOut, float p, long seed) {
        float[] g = d(dOut);
        float[] dxs = d(dx);
        float keep = 1f / (1f - p);
        chunks(g.length, (s, e) -> {
            for (int i = s; i < e; i++) {
                if (dropoutUniform(seed, i) >= p) {
                    dxs[i] += g[i] * keep;
                }
            }
        });
    }

    @Override
    public double crossEntropy(Tensor logits, int[] labels, Tensor dLogits, float gradScale) {
        int vocab = logits.cols();
        int rows = logits.rows();
        BackendChecks.labelsPerRow(labels, rows);
        BackendChecks.labelsInVocabulary(labels, vocab);
        float[] x = d(logits);
        float[] g = dLogits == null ? null : d(dLogits);
        double[] losses = new double[rows];
        parallelFor(rows, t -> losses[t] = rowCrossEntropy(x, g, t * vocab, vocab, labels[t], gradScale));
        double total = 0;
        for (double l : losses) {
            total += l;
        }
        return total;
    }

    /**
     * The loss of the logits row at offset {@code o} for {@code label} (0 for -100); with {@code g} non-null, writes
     * gradScale * (softmax - onehot) at the same offset of g (zeros for -100), which may be x itself.
     */
    private static double rowCrossEntropy(float[] x, float[] g, int o, int vocab, int label, float gradScale) {
        if (label == -100) {
            if (g != null) {
                Arrays.fill(g, o, o + vocab, 0f);
            }
            return 0.0;
        }
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i + V <= vocab; i += V) {
            mv = mv.max(FloatVector.fromArray(S, x, o + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < vocab; i++) {
            max = Math.max(max, x[o + i]);
        }
        FloatVector sv = FloatVector.zero(S);
        i = 0;
        for (; i + V <= vocab; i += V) {
            sv = sv.add(VectorMath.exp(FloatVector.fromArray(S, x, o + i).sub(max)));
        }
        double sum = VectorMath.sumLanes(sv);
        for (; i < vocab; i++) {
            sum += VectorMath.exp(x[o + i] - max);
        }
        double lse = max + StrictMath.log(sum);
        double loss = lse - x[o + label];
        if (g != null) {
            float l = (float) lse;
            i = 0;
            for (; i + V <= vocab; i += V) {
                VectorMath.exp(FloatVector.fromArray(S, x, o + i).sub(l))
                        .mul(gradScale)
                        .intoArray(g, o + i);
            }
            for (; i < vocab; i++) {
                g[o + i] = VectorMath.exp(x[o + i] - l) * gradScale;
            }
            g[o + label] -= gradScale;
        }
        return loss;
    }

    /**
     * {@link #lossChunkRows} rows at a time: copy the rows of hidden, logits^T = lmHead x rows^T (the product is
     * written with the small operand transposed, because the GEMM copies a transposed operand and the [V, C] weight
     * is the big one), transpose into row-major logits, the rows' cross-entropy in place, then dHidden rows +=
     * grad x lmHead and dLmHead += grad^T x rows. Every step is the unfused path's op on fewer rows, so the loss and
     * dHidden have its bits; dLmHead sums over the rows chunk by chunk instead of in one product.
     */
    @Override
    public double lmHeadCrossEntropy(
            Tensor hidden, Tensor lmHead, int[] labels, Tensor dHidden, Tensor dLmHead, float gradScale) {
        BackendChecks.lmHead(hidden, lmHead, labels, dHidden, dLmHead);
        int rows = hidden.rows();
        int c = hidden.cols();
        int vocab = lmHead.rows();
        int chunk = Math.min(lossChunkRows, rows);
        float[] h = d(hidden);
        float[] w = d(lmHead);
        boolean backward = dHidden != null || dLmHead != null;
        double total = 0;
        // The buffers are backend tensors, so the memory accounting shows the loss's share.
        try (Tensor rowsIn = allocate(chunk, c);
                Tensor logitsT = allocate(vocab, chunk);
                Tensor logits = allocate(chunk, vocab);
                Tensor dRows = dHidden == null ? null : allocate(chunk, c)) {
            float[] hc = d(rowsIn);
            float[] xt = d(logitsT);
            float[] x = d(logits);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int rc = Math.min(chunk, rows - r0);
                if (allIgnored(labels, r0, rc)) {
                    continue; // no loss, zero gradient
                }
                System.arraycopy(h, r0 * c, hc, 0, rc * c);
                CpuGemm.gemm(pool, vocab, rc, c, w, false, hc, true, 1f, 0f, xt);
                CpuGemm.transposeInto(xt, vocab, rc, x);
                float[] g = backward ? x : null;
                int first = r0;
                double[] losses = new double[rc];
                parallelFor(rc, t -> losses[t] = rowCrossEntropy(x, g, t * vocab, vocab, labels[first + t], gradScale));
                for (double l : losses) {
                    total += l;
                }
                if (dHidden != null) {
                    float[] dc = d(dRows);
                    CpuGemm.gemm(pool, rc, c, vocab, x, false, w, false, 1f, 0f, dc);
                    float[] dh = d(dHidden);
                    int o = r0 * c;
                    for (int i = 0; i < rc * c; i++) {
                        dh[o + i] += dc[i];
                    }
                }
                if (dLmHead != null) {
                    CpuGemm.transposeInto(x, rc, vocab, xt);
                    CpuGemm.gemm(pool, vocab, c, rc, xt, false, hc, false, 1f, 1f, d(dLmHead));
                }
            }
        }
        return total;
    }

    private static boolean allIgnored(int[] labels, int from, int count) {
        for (int i = from; i < from + count; i++) {
            if (labels[i] != -100) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int[] argmaxRows(Tensor x) {
        int cols = x.cols();
        float[] xs = d(x);
        int[] out = new int[x.rows()];
        parallelFor(out.length, t -> {
            int best = 0;
            int o = t * cols;
            for (int i = 1; i < cols; i++) {
                if (xs[o + i] > xs[o + best]) {
                    best = i;
                }
            }
            out[t] = best;
        });
        return out;
    }

    // ---- optimizer --------------------------------------------------------------------------------------

    @Override
    public void adamwUpdate(
            Tensor param,
            Tensor grad,
            Tensor m,
            Tensor v,
            float lr,
            float beta1,
            float beta2,
            float eps,
            float weightDecay,
            long step) {
        BackendChecks.sameSize(param, grad, "adamw");
        float[] p = d(param);
        float[] g = d(grad);
        float[] ms = d(m);
        float[] vs = d(v);
        double bc1 = 1.0 - StrictMath.pow(beta1, step);
        double bc2 = 1.0 - StrictMath.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = 1f - lr * weightDecay;
        chunks(p.length, (s, e) -> {
            for (int i = s; i < e; i++) {
                float gi = g[i];
                float mi = beta1 * ms[i] + (1f - beta1) * gi;
                float vi = beta2 * vs[i] + (1f - beta2) * gi * gi;
                ms[i] = mi;
                vs[i] = vi;
                p[i] = p[i] * decay - stepSize * mi / ((float) Math.sqrt(vi) / bc2Sqrt + eps);
            }
        });
    }
}

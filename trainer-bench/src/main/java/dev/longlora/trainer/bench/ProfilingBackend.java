package dev.longlora.trainer.bench;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A backend wrapper that adds up the wall time and the process CPU time spent in each op, to see where a step's time
 * goes (CPU time stays meaningful when other processes compete for the cores).
 */
public final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final Map<String, long[]> totals = new TreeMap<>();

    public ProfilingBackend(Backend inner) {
        this.inner = inner;
    }

    private static final com.sun.management.OperatingSystemMXBean OS = (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private long cpuAtStart;

    private synchronized void record(String op, long t0) {
        long[] t = totals.computeIfAbsent(op, k -> new long[3]);
        t[0] += System.nanoTime() - t0;
        t[1]++;
        t[2] += OS.getProcessCpuTime() - cpuAtStart;
    }

    private synchronized long start() {
        cpuAtStart = OS.getProcessCpuTime();
        return System.nanoTime();
    }

    /** Forgets the totals so far. */
    public synchronized void reset() {
        totals.clear();
    }

    /** A table of op, calls and milliseconds, slowest first. */
    public synchronized String report() {
        StringBuilder sb = new StringBuilder();
        totals.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> sb.append(String.format(
                        Locale.ROOT,
                        "%-20s %6d calls %9.1f ms wall %9.1f ms cpu%n",
                        e.getKey(),
                        e.getValue()[1],
                        e.getValue()[0] / 1e6,
                        e.getValue()[2] / 1e6)));
        return sb.toString();
    }

    @Override
    public String name() {
        return "profiled " + inner.name();
    }

    @Override
    public Tensor allocate(int... shape) {
        long t0 = start();
        Tensor r = inner.allocate(shape);
        record("allocate", t0);
        return r;
    }

    @Override
    public void upload(Tensor t, float[] data) {
        long t0 = start();
        inner.upload(t, data);
        record("upload", t0);
    }

    @Override
    public float[] download(Tensor t) {
        long t0 = start();
        float[] r = inner.download(t);
        record("download", t0);
        return r;
    }

    @Override
    public long bytesInUse() {
        long t0 = start();
        long r = inner.bytesInUse();
        record("bytesInUse", t0);
        return r;
    }

    @Override
    public long peakBytes() {
        long t0 = start();
        long r = inner.peakBytes();
        record("peakBytes", t0);
        return r;
    }

    @Override
    public void resetPeakBytes() {
        long t0 = start();
        inner.resetPeakBytes();
        record("resetPeakBytes", t0);
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        long t0 = start();
        inner.copy(dst, src);
        record("copy", t0);
    }

    @Override
    public void zero(Tensor t) {
        long t0 = start();
        inner.zero(t);
        record("zero", t0);
    }

    @Override
    public void scale(Tensor x, float a) {
        long t0 = start();
        inner.scale(x, a);
        record("scale", t0);
    }

    @Override
    public void axpy(float a, Tensor x, Tensor y) {
        long t0 = start();
        inner.axpy(a, x, y);
        record("axpy", t0);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        long t0 = start();
        double r = inner.sumOfSquares(x);
        record("sumOfSquares", t0);
        return r;
    }

    @Override
    public void matmul(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta) {
        long t0 = start();
        inner.matmul(c, a, transA, b, transB, alpha, beta);
        record(
                "matmul " + java.util.Arrays.toString(c.shape()) + "=" + java.util.Arrays.toString(a.shape())
                        + (transA ? "T" : "") + "x" + java.util.Arrays.toString(b.shape()) + (transB ? "T" : ""),
                t0);
    }

    @Override
    public void embeddingForward(Tensor out, Tensor table, int[] tokens) {
        long t0 = start();
        inner.embeddingForward(out, table, tokens);
        record("embeddingForward", t0);
    }

    @Override
    public void embeddingBackward(Tensor dTable, Tensor dOut, int[] tokens) {
        long t0 = start();
        inner.embeddingBackward(dTable, dOut, tokens);
        record("embeddingBackward", t0);
    }

    @Override
    public void rmsnormForward(Tensor out, Tensor rstd, Tensor x, Tensor w, float eps) {
        long t0 = start();
        inner.rmsnormForward(out, rstd, x, w, eps);
        record("rmsnormForward", t0);
    }

    @Override
    public void rmsnormBackward(Tensor dx, Tensor dw, Tensor dOut, Tensor x, Tensor w, Tensor rstd) {
        long t0 = start();
        inner.rmsnormBackward(dx, dw, dOut, x, w, rstd);
        record("rmsnormBackward", t0);
    }

    @Override
    public void ropeForward(Tensor x, int heads, float theta, float factor, int startPosition) {
        long t0 = start();
        inner.ropeForward(x, heads, theta, factor, startPosition);
        record("ropeForward", t0);
    }

    @Override
    public void ropeBackward(Tensor dx, int heads, float theta, float factor) {
        long t0 = start();
        inner.ropeBackward(dx, heads, theta, factor);
        record("ropeBackward", t0);
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
        long t0 = start();
        inner.attentionForward(out, lse, q, k, v, heads, kvHeads, groupSize, shiftHalf);
        record("attentionForward", t0);
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
        long t0 = start();
        inner.cachedAttentionForward(out, q, k, v, keyCache, valueCache, start, heads, kvHeads);
        record("cachedAttentionForward", t0);
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
        long t0 = start();
        inner.attentionBackward(dq, dk, dv, dOut, q, k, v, out, lse, heads, kvHeads, groupSize, shiftHalf);
        record("attentionBackward", t0);
    }

    @Override
    public void swigluForward(Tensor h, Tensor gate, Tensor up) {
        long t0 = start();
        inner.swigluForward(h, gate, up);
        record("swigluForward", t0);
    }

    @Override
    public void swigluBackward(Tensor dGate, Tensor dUp, Tensor dh, Tensor gate, Tensor up) {
        long t0 = start();
        inner.swigluBackward(dGate, dUp, dh, gate, up);
        record("swigluBackward", t0);
    }

    @Override
    public void dropoutForward(Tensor out, Tensor x, float p, long seed) {
        long t0 = start();
        inner.dropoutForward(out, x, p, seed);
        record("dropoutForward", t0);
    }

    @Override
    public void dropoutBackward(Tensor dx, Tensor dOut, float p, long seed) {
        long t0 = start();
        inner.dropoutBackward(dx, dOut, p, seed);
        record("dropoutBackward", t0);
    }

    @Override
    public double crossEntropy(Tensor logits, int[] labels, Tensor dLogits, float gradScale) {
        long t0 = start();
        double r = inner.crossEntropy(logits, labels, dLogits, gradScale);
        record("crossEntropy", t0);
        return r;
    }

    @Override
    public double lmHeadCrossEntropy(
            Tensor hidden, Tensor lmHead, int[] labels, Tensor dHidden, Tensor dLmHead, float gradScale) {
        long t0 = start();
        double r = inner.lmHeadCrossEntropy(hidden, lmHead, labels, dHidden, dLmHead, gradScale);
        record("lmHeadCrossEntropy", t0);
        return r;
    }

    @Override
    public int[] argmaxRows(Tensor x) {
        long t0 = start();
        int[] r = inner.argmaxRows(x);
        record("argmaxRows", t0);
        return r;
    }

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
        long t0 = start();
        inner.adamwUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
        record("adamwUpdate", t0);
    }

    @Override
    public void close() {
        inner.close();
    }
}

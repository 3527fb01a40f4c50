package dev.longlora.trainer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.BadArguments;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every CUDA kernel against the CPU reference backend on random inputs: relative L2 error below 1e-4 for the fp32
 * kernels and 1e-2 for attention (bf16 tensor cores), outputs poisoned with NaN before each run, NaN never passing.
 * Skipped, with the reason, on machines without a CUDA driver and GPU or with a kernels jar built without nvcc.
 */
class CudaBackendTest {
    private static final double F32 = 1e-4;
    private static final double BF16 = 1e-2;

    private static CpuBackend cpu;
    private static CudaBackend gpu;
    private final Random random = new Random(20260);

    @BeforeAll
    static void open() {
        if (CudaAvailability.unavailableReason().isEmpty()) {
            cpu = new CpuBackend(2);
            gpu = CudaBackend.open(0);
        }
    }

    /** Each test reports its own skip, with the reason, so no test passes silently without a GPU. */
    @BeforeEach
    void requireCuda() {
        var reason = CudaAvailability.unavailableReason();
        assumeTrue(reason.isEmpty(), () -> "CUDA backend test skipped: " + reason.orElse(""));
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private float[] randn(int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian() * scale;
        }
        return x;
    }

    private static float[] nan(int n) {
        float[] x = new float[n];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    private static Tensor put(Backend b, float[] data, int... shape) {
        Tensor t = b.allocate(shape);
        b.upload(t, data);
        return t;
    }

    /** A pair of tensors with the same contents on both backends. */
    private record Pair(Tensor c, Tensor g) {}

    private static Pair pair(float[] data, int... shape) {
        return new Pair(put(cpu, data, shape), put(gpu, data, shape));
    }

    private Pair randomPair(float scale, int... shape) {
        return pair(
                randn(Math.toIntExact(Arrays.stream(shape).asLongStream().reduce(1, (x, y) -> x * y)), scale), shape);
    }

    private static double relL2(float[] out, float[] ref) {
        assertEquals(ref.length, out.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < out.length; i++) {
            if (!Float.isFinite(out[i])) {
                return Double.NaN;
            }
            double d = (double) out[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    private static void assertClose(Pair p, double bound, String what) {
        double err = relL2(gpu.download(p.g), cpu.download(p.c));
        assertTrue(err < bound, what + ": relative L2 error " + err + " (bound " + bound + ")");
    }

    // ---- tests -------------------------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void matmulMatchesForEveryTransposeWithBetaZeroOverNanAndBetaOne(boolean ta, boolean tb) {
        int m = 67;
        int n = 45;
        int k = 130;
        Pair a = ta ? randomPair(1, k, m) : randomPair(1, m, k);
        Pair b = tb ? randomPair(1, n, k) : randomPair(1, k, n);
        Pair c = pair(nan(m * n), m, n);
        cpu.matmul(c.c, a.c, ta, b.c, tb, 0.5f, 0f);
        gpu.matmul(c.g, a.g, ta, b.g, tb, 0.5f, 0f);
        assertClose(c, F32, "matmul beta 0");
        cpu.matmul(c.c, a.c, ta, b.c, tb, 1f, 1f);
        gpu.matmul(c.g, a.g, ta, b.g, tb, 1f, 1f);
        assertClose(c, F32, "matmul beta 1");
    }

    @ParameterizedTest
    @CsvSource({"TF32", "BF16"})
    void tensorCoreMatmulStaysWithinTheBf16Bound(MatmulPrecision precision) {
        Pair a = randomPair(1, 300, 256);
        Pair b = randomPair(1, 200, 256);
        Pair c = pair(nan(300 * 200), 300, 200);
        cpu.matmul(c.c, a.c, false, b.c, true, 1f, 0f);
        gpu.setMatmulPrecision(precision);
        try {
            gpu.matmul(c.g, a.g, false, b.g, true, 1f, 0f);
        } finally {
            gpu.setMatmulPrecision(MatmulPrecision.FP32);
        }
        assertClose(c, BF16, precision + " matmul");
    }

    @Test
    void rmsnormForwardAndBackward() {
        int rows = 33;
        int cols = 520;
        Pair x = randomPair(2, rows, cols);
        Pair w = randomPair(1, cols);
        Pair out = pair(nan(rows * cols), rows, cols);
        Pair rstd = pair(nan(rows), rows);
        cpu.rmsnormForward(out.c, rstd.c, x.c, w.c, 1e-5f);
        gpu.rmsnormForward(out.g, rstd.g, x.g, w.g, 1e-5f);
        assertClose(out, F32, "rmsnorm out");
        assertClose(rstd, F32, "rmsnorm rstd");
        Pair g = randomPair(1, rows, cols);
        Pair dx = randomPair(1, rows, cols);
        Pair dw = randomPair(1, cols);
        cpu.rmsnormBackward(dx.c, dw.c, g.c, x.c, w.c, rstd.c);
        gpu.rmsnormBackward(dx.g, dw.g, g.g, x.g, w.g, rstd.g);
        assertClose(dx, F32, "rmsnorm dx (accumulated)");
        assertClose(dw, F32, "rmsnorm dw (accumulated)");
    }

    @Test
    void ropeWithPositionInterpolationAndItsTranspose() {
        Pair x = randomPair(1, 77, 3 * 64);
        cpu.ropeForward(x.c, 3, 10000f, 4f);
        gpu.ropeForward(x.g, 3, 10000f, 4f);
        assertClose(x, F32, "rope forward");
        cpu.ropeBackward(x.c, 3, 500000f, 2f);
        gpu.ropeBackward(x.g, 3, 500000f, 2f);
        assertClose(x, F32, "rope backward");
    }

    @ParameterizedTest(name = "start={0}")
    @CsvSource({"1", "6", "1000", "1048575"}) // one bit, two bits, several, twenty bits of the start position
    void ropeFromAStartPositionMatchesTheReference(int start) {
        Pair x = randomPair(1, 5, 3 * 64);
        cpu.ropeForward(x.c, 3, 10000f, 4f, start);
        gpu.ropeForward(x.g, 3, 10000f, 4f, start);
        assertClose(x, F32, "rope forward from position " + start);
    }

    @ParameterizedTest(name = "H={0}/{1} d={2} chunks={3}")
    @CsvSource({
        "4, 2, 64, 70 1 1 33 1", // tensor-core head dimension: the prefill runs the bf16 kernel, steps fp32
        "8, 2, 128, 129 1 5",
        "4, 2, 16, 40 1 1 9", // the tiny models' head dimension (generic fp32 prefill)
        "2, 1, 48, 1 1 1 20", // multi-query, a prefill of one token
    })
    void attentionOverAKvCacheMatchesTheReference(int h, int hkv, int d, String chunks) {
        int[] sizes =
                Arrays.stream(chunks.split(" ")).mapToInt(Integer::parseInt).toArray();
        int capacity = Arrays.stream(sizes).sum() + 3;
        Pair keys = pair(nan(hkv * capacity * d), hkv, capacity, d);
        Pair values = pair(nan(hkv * capacity * d), hkv, capacity, d);
        int start = 0;
        for (int n : sizes) {
            Pair q = randomPair(1, n, h * d);
            Pair k = randomPair(1, n, hkv * d);
            Pair v = randomPair(1, n, hkv * d);
            Pair out = pair(nan(n * h * d), n, h * d);
            cpu.cachedAttentionForward(out.c, q.c, k.c, v.c, keys.c, values.c, start, h, hkv);
            gpu.cachedAttentionForward(out.g, q.g, k.g, v.g, keys.g, values.g, start, h, hkv);
            boolean bf16 = start == 0 && CudaBackend.hasTensorCoreKernel(d);
            assertClose(out, bf16 ? BF16 : F32, "cached attention of positions [" + start + ", " + (start + n) + ")");
            start += n;
        }
        // The caches hold exactly what was stored (NaN beyond), so compare the filled positions.
        for (Pair cache : new Pair[] {keys, values}) {
            float[] c = cpu.download(cache.c);
            float[] g = gpu.download(cache.g);
            for (int kv = 0; kv < hkv; kv++) {
                int from = kv * capacity * d;
                assertArrayEquals(
                        Arrays.copyOfRange(c, from, from + start * d),
                        Arrays.copyOfRange(g, from, from + start * d),
                        "cached rows of KV head " + kv);
            }
        }
    }

    @ParameterizedTest(name = "T={0} H={1}/{2} d={3} G={4} shift={5} tiles={6}")
    @CsvSource({
        "200, 4, 2, 64, 200, false, 64", // full causal, T not a multiple of the 64-row tile, GQA 2
        "256, 8, 2, 128, 64, true, 64", // S2 with tile-aligned groups, GQA 4
        "96, 4, 1, 64, 24, true, 64", // S2 whose half-group (12) splits tiles, multi-query
        "192, 2, 2, 128, 48, false, 64", // short attention without the shift
        "200, 4, 2, 64, 40, true, 128", // the 128-row / 128-key tile variants
        "320, 4, 4, 128, 80, true, 128",
    })
    void attentionForwardAndBackwardMatchTheReference(int t, int h, int hkv, int d, int g, boolean shift, int tiles) {
        gpu.setAttentionTiles(tiles, tiles);
        try {
            attentionCase(t, h, hkv, d, g, shift);
        } finally {
            gpu.setAttentionTiles(64, 64);
        }
    }

    private void attentionCase(int t, int h, int hkv, int d, int g, boolean shift) {
        Pair q = randomPair(1, t, h * d);
        Pair k = randomPair(1, t, hkv * d);
        Pair v = randomPair(1, t, hkv * d);
        Pair out = pair(nan(t * h * d), t, h * d);
        Pair lse = pair(nan(h * t), h, t);
        cpu.attentionForward(out.c, lse.c, q.c, k.c, v.c, h, hkv, g, shift);
        gpu.attentionForward(out.g, lse.g, q.g, k.g, v.g, h, hkv, g, shift);
        assertClose(out, BF16, "attention out");
        assertClose(lse, BF16, "attention lse");
        Pair dOut = randomPair(1, t, h * d);
        Pair dq = randomPair(1, t, h * d);
        Pair dk = randomPair(1, t, hkv * d);
        Pair dv = randomPair(1, t, hkv * d);
        // Both backward passes read the CPU forward's out and lse, so only the backward kernels are compared.
        gpu.upload(out.g, cpu.download(out.c));
        gpu.upload(lse.g, cpu.download(lse.c));
        cpu.attentionBackward(dq.c, dk.c, dv.c, dOut.c, q.c, k.c, v.c, out.c, lse.c, h, hkv, g, shift);
        gpu.attentionBackward(dq.g, dk.g, dv.g, dOut.g, q.g, k.g, v.g, out.g, lse.g, h, hkv, g, shift);
        assertClose(dq, BF16, "attention dq (accumulated)");
        assertClose(dk, BF16, "attention dk (accumulated)");
        assertClose(dv, BF16, "attention dv (accumulated)");
    }

    @ParameterizedTest(name = "T={0} H={1}/{2} d={3} G={4} shift={5}")
    @CsvSource({
        "48, 4, 2, 16, 12, true", // the built-in tiny model's head dimension, S2
        "70, 2, 1, 48, 70, false", // full causal, multi-query
    })
    void genericAttentionForOtherHeadDimensionsIsExactFp32(int t, int h, int hkv, int d, int g, boolean shift) {
        Pair q = randomPair(1, t, h * d);
        Pair k = randomPair(1, t, hkv * d);
        Pair v = randomPair(1, t, hkv * d);
        Pair out = pair(nan(t * h * d), t, h * d);
        Pair lse = pair(nan(h * t), h, t);
        cpu.attentionForward(out.c, lse.c, q.c, k.c, v.c, h, hkv, g, shift);
        gpu.attentionForward(out.g, lse.g, q.g, k.g, v.g, h, hkv, g, shift);
        assertClose(out, F32, "generic attention out");
        assertClose(lse, F32, "generic attention lse");
        Pair dOut = randomPair(1, t, h * d);
        Pair dq = randomPair(1, t, h * d);
        Pair dk = randomPair(1, t, hkv * d);
        Pair dv = randomPair(1, t, hkv * d);
        cpu.attentionBackward(dq.c, dk.c, dv.c, dOut.c, q.c, k.c, v.c, out.c, lse.c, h, hkv, g, shift);
        gpu.attentionBackward(dq.g, dk.g, dv.g, dOut.g, q.g, k.g, v.g, out.g, lse.g, h, hkv, g, shift);
        assertClose(dq, F32, "generic attention dq (accumulated)");
        assertClose(dk, F32, "generic attention dk (accumulated)");
        assertClose(dv, F32, "generic attention dv (accumulated)");
    }

    @Test
    void attentionRejectsHeadDimensionsAbove256() {
        Tensor q = gpu.allocate(8, 2 * 272);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> gpu.attentionForward(gpu.allocate(8, 2 * 272), gpu.allocate(2, 8), q, q, q, 2, 2, 8, false));
        assertTrue(e.getMessage().contains("head dimension"), e.getMessage());
    }

    @Test
    void rejectsEveryBadCallWithTheMessageOfTheCpuReference() {
        for (BadArguments.BadCall bad : BadArguments.ALL) {
            String onCpu = bad.failureOn(cpu).getMessage();
            String onGpu = bad.failureOn(gpu).getMessage().replace("CudaTensor", "CpuTensor");
            assertEquals(onCpu, onGpu, bad.what());
        }
    }

    @Test
    void swigluForwardAndBackward() {
        Pair gate = randomPair(3, 1000);
        Pair up = randomPair(1, 1000);
        Pair h = pair(nan(1000), 1000);
        cpu.swigluForward(h.c, gate.c, up.c);
        gpu.swigluForward(h.g, gate.g, up.g);
        assertClose(h, F32, "swiglu");
        Pair dh = randomPair(1, 1000);
        Pair dg = randomPair(1, 1000);
        Pair du = randomPair(1, 1000);
        cpu.swigluBackward(dg.c, du.c, dh.c, gate.c, up.c);
        gpu.swigluBackward(dg.g, du.g, dh.g, gate.g, up.g);
        assertClose(dg, F32, "swiglu dgate");
        assertClose(du, F32, "swiglu dup");
    }

    @Test
    void dropoutDrawsTheSameMaskAsTheReference() {
        Pair x = randomPair(1, 5000);
        Pair out = pair(nan(5000), 5000);
        cpu.dropoutForward(out.c, x.c, 0.25f, 987654321L);
        gpu.dropoutForward(out.g, x.g, 0.25f, 987654321L);
        assertArrayEquals(cpu.download(out.c), gpu.download(out.g), 1e-6f);
        Pair dx = randomPair(1, 5000);
        cpu.dropoutBackward(dx.c, x.c, 0.25f, -42L);
        gpu.dropoutBackward(dx.g, x.g, 0.25f, -42L);
        assertClose(dx, F32, "dropout backward");
    }

    @Test
    void crossEntropyWithIgnoredRowsSeparateAndInPlace() {
        int rows = 40;
        int vocab = 3001;
        int[] labels = random.ints(rows, 0, vocab).toArray();
        labels[3] = -100;
        labels[17] = -100;
        Pair logits = randomPair(3, rows, vocab);
        Pair grad = pair(nan(rows * vocab), rows, vocab);
        double lc = cpu.crossEntropy(logits.c, labels, grad.c, 0.25f);
        double lg = gpu.crossEntropy(logits.g, labels, grad.g, 0.25f);
        assertEquals(lc, lg, 1e-4 * Math.abs(lc));
        assertClose(grad, F32, "cross-entropy gradient");
        lc = cpu.crossEntropy(logits.c, labels, logits.c, 1f);
        lg = gpu.crossEntropy(logits.g, labels, logits.g, 1f);
        assertEquals(lc, lg, 1e-4 * Math.abs(lc));
        assertClose(logits, F32, "cross-entropy gradient in place");
        assertEquals(
                cpu.crossEntropy(grad.c, labels, null, 1f),
                gpu.crossEntropy(grad.g, labels, null, 1f),
                1e-4 * Math.abs(cpu.crossEntropy(grad.c, labels, null, 1f)));
    }

    @Test
    void lmHeadCrossEntropyInVocabularyChunksMatchesFullLogits() {
        int rows = 50;
        int hidden = 64;
        int vocab = 1000;
        int[] labels = random.ints(rows, 0, vocab).toArray();
        labels[0] = -100;
        Pair x = randomPair(1, rows, hidden);
        Pair w = randomPair(0.2f, vocab, hidden);
        // Reference: full logits on the CPU, cross-entropy, then dHidden += dLogits x W and dW += dLogits^T x hidden.
        Tensor logits = cpu.allocate(rows, vocab);
        cpu.matmul(logits, x.c, false, w.c, true, 1f, 0f);
        double ref = cpu.crossEntropy(logits, labels, logits, 0.5f);
        Pair dx = randomPair(1, rows, hidden);
        Pair dw = randomPair(1, vocab, hidden);
        cpu.matmul(dx.c, logits, false, w.c, false, 1f, 1f);
        cpu.matmul(dw.c, logits, true, x.c, false, 1f, 1f);
        double got = gpu.lmHeadCrossEntropy(x.g, w.g, labels, dx.g, dw.g, 0.5f, 128);
        assertEquals(ref, got, 1e-4 * Math.abs(ref));
        assertClose(dx, F32, "fused LM head dHidden (accumulated)");
        assertClose(dw, F32, "fused LM head dLmHead (accumulated)");
        // The seam's entry point picks its own chunk; without gradients it only computes the loss.
        assertEquals(ref, gpu.lmHeadCrossEntropy(x.g, w.g, labels, null, null, 1f), 1e-4 * Math.abs(ref));
    }

    @Test
    void embeddingArgmaxAndReductions() {
        int[] tokens = {5, 0, 99, 5, 42};
        Pair table = randomPair(1, 100, 48);
        Pair out = pair(nan(5 * 48), 5, 48);
        cpu.embeddingForward(out.c, table.c, tokens);
        gpu.embeddingForward(out.g, table.g, tokens);
        assertClose(out, F32, "embedding forward");
        cpu.embeddingBackward(table.c, out.c, tokens);
        gpu.embeddingBackward(table.g, out.g, tokens);
        assertClose(table, F32, "embedding backward (repeated token 5)");
        Pair x = randomPair(1, 7, 2000);
        assertArrayEquals(cpu.argmaxRows(x.c), gpu.argmaxRows(x.g));
        double sc = cpu.sumOfSquares(x.c);
        assertEquals(sc, gpu.sumOfSquares(x.g), 1e-6 * sc);
        Pair y = randomPair(1, 7, 2000);
        cpu.axpy(-0.5f, x.c, y.c);
        gpu.axpy(-0.5f, x.g, y.g);
        cpu.scale(y.c, 3f);
        gpu.scale(y.g, 3f);
        assertClose(y, F32, "axpy then scale");
        Pair z = pair(nan(7 * 2000), 7, 2000);
        cpu.copy(z.c, y.c);
        gpu.copy(z.g, y.g);
        assertClose(z, F32, "copy");
        gpu.zero(z.g);
        assertEquals(0.0, gpu.sumOfSquares(z.g));
    }

    @Test
    void adamwStepMatchesTheReference() {
        Pair p = randomPair(1, 3000);
        Pair g = randomPair(1, 3000);
        Pair m = randomPair(0.1f, 3000);
        float[] v0 = randn(3000, 0.1f);
        for (int i = 0; i < v0.length; i++) {
            v0[i] = v0[i] * v0[i];
        }
        Pair v = pair(v0, 3000);
        for (long step = 1; step <= 3; step++) {
            cpu.adamwUpdate(p.c, g.c, m.c, v.c, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
            gpu.adamwUpdate(p.g, g.g, m.g, v.g, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
        }
        assertClose(p, F32, "adamw param");
        assertClose(m, F32, "adamw m");
        assertClose(v, F32, "adamw v");
    }

    @Test
    void memoryAccountingFollowsLiveTensors() {
        long before = gpu.bytesInUse();
        Tensor t = gpu.allocate(1000, 10);
        assertEquals(before + 40_000, gpu.bytesInUse());
        assertTrue(gpu.peakBytes() >= before + 40_000);
        assertEquals(0.0, gpu.sumOfSquares(t), "allocate zero-fills");
        t.close();
        assertEquals(before, gpu.bytesInUse());
    }
}

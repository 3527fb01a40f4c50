package dev.longlora.trainer.backend;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of every backward op of the CPU backend, one layer at a time. */
class LayerGradientCheckTest {
    private static final CpuBackend BE = new CpuBackend(2);
    private static final double EPS = 1e-2;
    private static final double TOL = 2e-3;

    @AfterAll
    static void close() {
        BE.close();
    }

    private static Tensor t(float[] data, int... shape) {
        Tensor x = BE.allocate(shape);
        BE.upload(x, data);
        return x;
    }

    @Test
    void rmsnorm() {
        int rows = 5, c = 12;
        float eps = 1e-5f;
        FiniteDifference.check(
                "rmsnorm",
                new float[][] {random(rows * c, 0, 1, 1), random(c, 1, 0.3, 2)},
                in -> {
                    Tensor out = BE.allocate(rows, c);
                    BE.rmsnormForward(out, BE.allocate(rows), t(in[0], rows, c), t(in[1], c), eps);
                    return BE.download(out);
                },
                (in, dOut) -> {
                    Tensor x = t(in[0], rows, c), w = t(in[1], c), rstd = BE.allocate(rows);
                    BE.rmsnormForward(BE.allocate(rows, c), rstd, x, w, eps);
                    Tensor dx = BE.allocate(rows, c), dw = BE.allocate(c);
                    BE.rmsnormBackward(dx, dw, t(dOut, rows, c), x, w, rstd);
                    return new float[][] {BE.download(dx), BE.download(dw)};
                },
                EPS,
                TOL);
    }

    @Test
    void ropeWithPositionInterpolation() {
        int rows = 9, heads = 3, d = 8;
        for (float factor : new float[] {1f, 2.5f}) {
            FiniteDifference.check(
                    "rope factor " + factor,
                    new float[][] {random(rows * heads * d, 0, 1, 3)},
                    in -> {
                        Tensor x = t(in[0], rows, heads * d);
                        BE.ropeForward(x, heads, 100f, factor);
                        return BE.download(x);
                    },
                    (in, dOut) -> {
                        Tensor g = t(dOut, rows, heads * d);
                        BE.ropeBackward(g, heads, 100f, factor);
                        return new float[][] {BE.download(g)};
                    },
                    EPS,
                    TOL);
        }
    }

    @Test
    void attentionFullS2ShortWithGqaMhaAndMqa() {
        int rows = 16, d = 4;
        int[][] headConfigs = {{4, 2}, {4, 4}, {4, 1}};
        for (int[] hc : headConfigs) {
            for (int[] pattern : new int[][] {{16, 0}, {4, 1}, {8, 1}, {4, 0}}) {
                int heads = hc[0], kv = hc[1], group = pattern[0];
                boolean shift = pattern[1] == 1;
                String what = "attention H=" + heads + " Hkv=" + kv + " G=" + group + " shift=" + shift;
                FiniteDifference.check(
                        what,
                        new float[][] {
                            random(rows * heads * d, 0, 1, 4),
                            random(rows * kv * d, 0, 1, 5),
                            random(rows * kv * d, 0, 1, 6)
                        },
                        in -> {
                            Tensor out = BE.allocate(rows, heads * d);
                            BE.attentionForward(
                                    out,
                                    BE.allocate(heads, rows),
                                    t(in[0], rows, heads * d),
                                    t(in[1], rows, kv * d),
                                    t(in[2], rows, kv * d),
                                    heads,
                                    kv,
                                    group,
                                    shift);
                            return BE.download(out);
                        },
                        (in, dOut) -> {
                            Tensor q = t(in[0], rows, heads * d),
                                    k = t(in[1], rows, kv * d),
                                    v = t(in[2], rows, kv * d);
                            Tensor out = BE.allocate(rows, heads * d), lse = BE.allocate(heads, rows);
                            BE.attentionForward(out, lse, q, k, v, heads, kv, group, shift);
                            Tensor dq = BE.allocate(rows, heads * d),
                                    dk = BE.allocate(rows, kv * d),
                                    dv = BE.allocate(rows, kv * d);
                            BE.attentionBackward(
                                    dq, dk, dv, t(dOut, rows, heads * d), q, k, v, out, lse, heads, kv, group, shift);
                            return new float[][] {BE.download(dq), BE.download(dk), BE.download(dv)};
                        },
                        EPS,
                        TOL);
            }
        }
    }

    @Test
    void swiglu() {
        int n = 37;
        FiniteDifference.check(
                "swiglu",
                new float[][] {random(n, 0, 2, 7), random(n, 0, 1, 8)},
                in -> {
                    Tensor h = BE.allocate(n);
                    BE.swigluForward(h, t(in[0], n), t(in[1], n));
                    return BE.download(h);
                },
                (in, dOut) -> {
                    Tensor dg = BE.allocate(n), du = BE.allocate(n);
                    BE.swigluBackward(dg, du, t(dOut, n), t(in[0], n), t(in[1], n));
                    return new float[][] {BE.download(dg), BE.download(du)};
                },
                EPS,
                TOL);
    }

    @Test
    void embeddingWithRepeatedTokens() {
        int vocab = 7, c = 5;
        int[] tokens = {3, 1, 3, 6, 0, 3};
        FiniteDifference.check(
                "embedding",
                new float[][] {random(vocab * c, 0, 1, 9)},
                in -> {
                    Tensor out = BE.allocate(tokens.length, c);
                    BE.embeddingForward(out, t(in[0], vocab, c), tokens);
                    return BE.download(out);
                },
                (in, dOut) -> {
                    Tensor g = BE.allocate(vocab, c);
                    BE.embeddingBackward(g, t(dOut, tokens.length, c), tokens);
                    return new float[][] {BE.download(g)};
                },
                EPS,
                TOL);
    }

    @Test
    void crossEntropyWithIgnoredRows() {
        int rows = 6, vocab = 40;
        int[] labels = {3, -100, 39, 0, -100, 17};
        FiniteDifference.check(
                "cross-entropy",
                new float[][] {random(rows * vocab, 0, 2, 10)},
                in -> new float[] {(float) BE.crossEntropy(t(in[0], rows, vocab), labels, null, 1f)},
                (in, dOut) -> {
                    Tensor g = BE.allocate(rows, vocab);
                    BE.crossEntropy(t(in[0], rows, vocab), labels, g, dOut[0]);
                    return new float[][] {BE.download(g)};
                },
                EPS,
                TOL);
    }

    @Test
    void crossEntropyInPlaceEqualsOutOfPlace() {
        int rows = 3, vocab = 33;
        int[] labels = {1, 2, -100};
        float[] x = random(rows * vocab, 0, 1, 11);
        Tensor a = t(x, rows, vocab);
        Tensor g = BE.allocate(rows, vocab);
        double l1 = BE.crossEntropy(a, labels, g, 0.5f);
        Tensor b = t(x, rows, vocab);
        double l2 = BE.crossEntropy(b, labels, b, 0.5f);
        assertEquals(l1, l2, 0);
        float[] g1 = BE.download(g);
        float[] g2 = BE.download(b);
        for (int i = 0; i < g1.length; i++) {
            assertEquals(g1[i], g2[i], 0f);
        }
    }

    @Test
    void dropoutBackwardIsTheTransposeOfForward() {
        int n = 1000;
        float p = 0.25f;
        float[] x = random(n, 0, 1, 12);
        float[] r = random(n, 0, 1, 13);
        Tensor out = BE.allocate(n);
        BE.dropoutForward(out, t(x, n), p, 99);
        Tensor dx = BE.allocate(n);
        BE.dropoutBackward(dx, t(r, n), p, 99);
        double lhs = 0, rhs = 0;
        float[] o = BE.download(out);
        float[] g = BE.download(dx);
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            lhs += (double) o[i] * r[i];
            rhs += (double) x[i] * g[i];
            dropped += o[i] == 0f ? 1 : 0;
        }
        assertEquals(lhs, rhs, 1e-3);
        assertEquals(0.25, dropped / (double) n, 0.05, "fraction dropped");
    }
}

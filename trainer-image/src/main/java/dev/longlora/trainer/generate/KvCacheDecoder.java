package dev.longlora.trainer.generate;

import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Incremental LLaMA inference on the CPU with a key/value cache: {@link #append} runs a chunk of tokens at the next
 * absolute positions (a prompt's prefill, or one generated token), keeps each layer's rotated keys and values, and
 * returns the next-token logits of the chunk's last token. Later tokens attend to the cached keys and values instead
 * of recomputing them. Numerics follow the model's forward (HF conventions): RMSNorm with the sum of squares in
 * double, RoPE rotate_half with angle (p / factor) * theta^(-2i/d), full causal attention with grouped-query heads.
 */
public final class KvCacheDecoder {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final DecoderWeights w;
    private final LlamaConfig c;
    private final int capacity;
    private final double ropeFactor;
    private final float[][] keys;
    private final float[][] values;
    private int position;

    /**
     * A decoder over a copy of {@code model}'s weights (LoRA folded in) that holds at most {@code capacity} tokens,
     * with the model's current PI factor.
     */
    public KvCacheDecoder(LlamaModel model, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.w = new DecoderWeights(model);
        this.c = w.config;
        this.capacity = capacity;
        this.ropeFactor = model.ropeScalingFactor();
        int kvDim = c.numKvHeads() * c.headDim();
        long perLayer = (long) capacity * kvDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "a KV cache of " + capacity + " tokens x " + kvDim + " does not fit one array");
        }
        keys = new float[c.numLayers()][(int) perLayer];
        values = new float[c.numLayers()][(int) perLayer];
    }

    /** Tokens held in the cache (the absolute position of the next token). */
    public int position() {
        return position;
    }

    /** Empties the cache (the next token is at position 0 again). */
    public void reset() {
        position = 0;
    }

    /** Runs {@code tokens} at positions [position, position + n), caches their keys and values, returns the last token's logits. */
    public float[] append(int... tokens) {
        int n = tokens.length;
        if (n == 0) throw new IllegalArgumentException("append needs at least one token");
        if (position + n > capacity) {
            throw new IllegalArgumentException(
                    "the KV cache holds " + capacity + " tokens; " + position + " + " + n + " do not fit");
        }
        int h = c.hiddenSize();
        int d = c.headDim();
        int kvDim = c.numKvHeads() * d;
        float[] x = new float[n * h];
        for (int t = 0; t < n; t++) {
            int id = tokens[t];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException(
                        "token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            System.arraycopy(w.embed, id * h, x, t * h, h);
        }
        float eps = (float) c.rmsNormEps();
        for (int l = 0; l < w.layers.length; l++) {
            DecoderWeights.Layer L = w.layers[l];
            float[] xn = rmsnorm(x, n, h, L.inNorm(), eps);
            float[] q = matmul(xn, n, h, L.q(), h);
            float[] k = matmul(xn, n, h, L.k(), kvDim);
            float[] v = matmul(xn, n, h, L.v(), kvDim);
            rope(q, n, c.numHeads(), d, position);
            rope(k, n, c.numKvHeads(), d, position);
            System.arraycopy(k, 0, keys[l], position * kvDim, n * kvDim);
            System.arraycopy(v, 0, values[l], position * kvDim, n * kvDim);
            float[] att = attention(q, n, keys[l], values[l]);
            float[] o = matmul(att, n, h, L.o(), h);
            for (int i = 0; i < x.length; i++) x[i] += o[i];
            float[] xn2 = rmsnorm(x, n, h, L.postNorm(), eps);
            int inter = c.intermediateSize();
            float[] g = matmul(xn2, n, h, L.gate(), inter);
            float[] u = matmul(xn2, n, h, L.up(), inter);
            for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] / (1.0 + Math.exp(-g[i]))) * u[i];
            float[] down = matmul(g, n, inter, L.down(), h);
            for (int i = 0; i < x.length; i++) x[i] += down[i];
        }
        position += n;
        float[] last = new float[h];
        System.arraycopy(x, (n - 1) * h, last, 0, h);
        return matmul(rmsnorm(last, 1, h, w.finalNorm, eps), 1, h, w.lmHead, c.vocabSize());
    }

    /** Causal attention of n new queries at positions [position, position + n) over the cache up to each query. */
    private float[] attention(float[] q, int n, float[] kc, float[] vc) {
        int heads = c.numHeads();
        int d = c.headDim();
        int kvDim = c.numKvHeads() * d;
        int group = c.kvGroupSize();
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[n * heads * d];
        IntStream.range(0, n * heads).parallel().forEach(job -> {
            int t = job / heads;
            int head = job % heads;
            int kvOff = (head / group) * d;
            int qOff = t * heads * d + head * d;
            int keysSeen = position + t + 1;
            float[] scores = new float[keysSeen];
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < keysSeen; j++) {
                float s = dot(q, qOff, kc, j * kvDim + kvOff, d) * scale;
                scores[j] = s;
                if (s > max) max = s;
            }
            double sum = 0;
            for (int j = 0; j < keysSeen; j++) {
                float e = (float) Math.exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            int bound = F.loopBound(d);
            for (int j = 0; j < keysSeen; j++) {
                float p = scores[j] * inv;
                FloatVector pv = FloatVector.broadcast(F, p);
                int vOff = j * kvDim + kvOff;
                int i = 0;
                for (; i < bound; i += F.length()) {
                    FloatVector.fromArray(F, vc, vOff + i)
                            .fma(pv, FloatVector.fromArray(F, out, qOff + i))
                            .intoArray(out, qOff + i);
                }
                for (; i < d; i++) out[qOff + i] += p * vc[vOff + i];
            }
        });
        return out;
    }

    /** In-place RoPE of n rows at absolute positions start.. (rotate_half pairs (i, i + d/2), linear PI). */
    private void rope(float[] x, int n, int heads, int d, int start) {
        int half = d / 2;
        for (int t = 0; t < n; t++) {
            double pos = (start + t) / ropeFactor;
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(c.ropeTheta(), -2.0 * i / d);
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                for (int hd = 0; hd < heads; hd++) {
                    int a = t * heads * d + hd * d + i;
                    float x1 = x[a];
                    float x2 = x[a + half];
                    x[a] = x1 * cos - x2 * sin;
                    x[a + half] = x2 * cos + x1 * sin;
                }
            }
        }
    }

    private static float[] rmsnorm(float[] x, int n, int h, float[] weight, float eps) {
        float[] out = new float[n * h];
        for (int t = 0; t < n; t++) {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += (double) x[t * h + i] * x[t * h + i];
            float rstd = (float) (1.0 / Math.sqrt(ss / h + eps));
            for (int i = 0; i < h; i++) out[t * h + i] = x[t * h + i] * rstd * weight[i];
        }
        return out;
    }

    /** y [n, out] = x [n, in] W^T for W [out, in]: each weight row is read once per chunk of tokens. */
    private static float[] matmul(float[] x, int n, int in, float[] weight, int out) {
        float[] y = new float[n * out];
        IntStream.range(0, out).parallel().forEach(o -> {
            int wOff = o * in;
            for (int t = 0; t < n; t++) y[t * out + o] = dot(x, t * in, weight, wOff, in);
        });
        return y;
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(len);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }
}

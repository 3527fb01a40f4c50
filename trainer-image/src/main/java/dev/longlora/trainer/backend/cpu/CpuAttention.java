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
 * grouped-query heads read in place (query head h uses KV head h / (H / Hkv), nothing repeated). Scores are
 * computed a vector of keys at a time from a transposed copy of the segment's keys; softmax uses the stored
 * log-sum-exp in backward, FlashAttention style.
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
    tasks.sort((a, b) -> Long.compare((long) b.q1 * b.q1 - (long) b.q0 * b.q0 - 2L * b.s0 * (b.q1 - b.q0),
        (long) a.q1 * a.q1 - (long) a.q0 * a.q0 - 2L * a.s0 * (a.q1 - a.q0)));
    return tasks;
  }

  static void forward(ForkJoinPool pool, float[] out, float[] lse, float[] q, float[] k, float[] v, int t, int heads,
      int kvHeads, int d, int groupSize, boolean shiftHalf) {
    List<Task> tasks = tasks(t, heads, groupSize, shiftHalf, true);
    pool.submit(() -> tasks.parallelStream().forEach(task ->
        forwardTask(task, out, lse, q, k, v, t, heads, kvHeads, d))).join();
  }

  private static void forwardTask(Task task, float[] out, float[] lse, float[] q, float[] k, float[] v, int t,
      int heads, int kvHeads, int d) {
    int h = task.head;
    int kvh = h / (heads / kvHeads);
    int qc = heads * d;
    int kc = kvHeads * d;
    float scale = (float) (1.0 / Math.sqrt(d));
    int nKeys = task.q1 - task.s0;
    int ld = roundUp(nKeys);
    float[] kT = transposeKeys(k, task.s0, nKeys, kc, kvh * d, d, ld);
    float[] scores = new float[ld];
    float[] qs = new float[d];
    for (int i = task.q0; i < task.q1; i++) {
      int qo = i * qc + h * d;
      for (int c = 0; c < d; c++) {
        qs[c] = q[qo + c] * scale;
      }
      int nk = i - task.s0 + 1;
      int nkPad = roundUp(nk);
      scores(kT, ld, qs, d, nkPad, scores);
      for (int j = nk; j < nkPad; j++) {
        scores[j] = Float.NEGATIVE_INFINITY;
      }
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < nkPad; j += V) {
        max = Math.max(max, FloatVector.fromArray(S, scores, j).reduceLanes(VectorOperators.MAX));
      }
      FloatVector sum = FloatVector.zero(S);
      for (int j = 0; j < nkPad; j += V) {
        FloatVector p = FloatVector.fromArray(S, scores, j).sub(max).lanewise(VectorOperators.EXP);
        p.intoArray(scores, j);
        sum = sum.add(p);
      }
      float l = sum.reduceLanes(VectorOperators.ADD);
      lse[h * t + i] = max + (float) Math.log(l);
      float inv = 1f / l;
      int oo = i * qc + h * d;
      for (int c0 = 0; c0 < d; c0 += V) {
        var mask = S.indexInRange(c0, d);
        FloatVector acc = FloatVector.zero(S);
        int vo = task.s0 * kc + kvh * d + c0;
        for (int j = 0; j < nk; j++, vo += kc) {
          acc = FloatVector.broadcast(S, scores[j]).fma(FloatVector.fromArray(S, v, vo, mask), acc);
        }
        acc.mul(inv).intoArray(out, oo + c0, mask);
      }
    }
  }

  static void backward(ForkJoinPool pool, float[] dq, float[] dk, float[] dv, float[] dOut, float[] q, float[] k,
      float[] v, float[] out, float[] lse, int t, int heads, int kvHeads, int d, int groupSize, boolean shiftHalf) {
    List<Task> tasks = tasks(t, heads, groupSize, shiftHalf, false);
    // Per-query-head key/value gradients keep tasks race-free; they are summed into each KV head at the end.
    float[][] dkHead = new float[heads][t * d];
    float[][] dvHead = new float[heads][t * d];
    pool.submit(() -> tasks.parallelStream().forEach(task ->
        backwardTask(task, dq, dkHead[task.head], dvHead[task.head], dOut, q, k, v, out, lse, t, heads, kvHeads, d)))
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
    })).join();
  }

  private static void backwardTask(Task task, float[] dq, float[] dkh, float[] dvh, float[] dOut, float[] q,
      float[] k, float[] v, float[] out, float[] lse, int t, int heads, int kvHeads, int d) {
    int h = task.head;
    int kvh = h / (heads / kvHeads);
    int qc = heads * d;
    int kc = kvHeads * d;
    float scale = (float) (1.0 / Math.sqrt(d));
    int nKeys = task.s1 - task.s0;
    int ld = roundUp(nKeys);
    float[] kT = transposeKeys(k, task.s0, nKeys, kc, kvh * d, d, ld);
    float[] vT = transposeKeys(v, task.s0, nKeys, kc, kvh * d, d, ld);
    float[] p = new float[ld];
    float[] ds = new float[ld];
    float[] qs = new float[d];
    float[] g = new float[d];
    for (int i = task.s0; i < task.s1; i++) {
      int qo = i * qc + h * d;
      float di = 0f;
      for (int c = 0; c < d; c++) {
        qs[c] = q[qo + c] * scale;
        g[c] = dOut[qo + c];
        di += g[c] * out[qo + c];
      }
      int nk = i - task.s0 + 1;
      int nkPad = roundUp(nk);
      scores(kT, ld, qs, d, nkPad, p);
      float li = lse[h * t + i];
      // dp = dO . v_j for all keys at once, from the transposed values.
      scores(vT, ld, g, d, nkPad, ds);
      for (int j = 0; j < nkPad; j += V) {
        FloatVector pj = FloatVector.fromArray(S, p, j).sub(li).lanewise(VectorOperators.EXP);
        pj.intoArray(p, j);
        pj.mul(FloatVector.fromArray(S, ds, j).sub(di)).intoArray(ds, j);
      }
      for (int j = nk; j < nkPad; j++) {
        p[j] = 0f;
        ds[j] = 0f;
      }
      // dq_i = scale * sum_j ds_j k_j
      for (int c0 = 0; c0 < d; c0 += V) {
        var mask = S.indexInRange(c0, d);
        FloatVector acc = FloatVector.zero(S);
        int ko = task.s0 * kc + kvh * d + c0;
        for (int j = 0; j < nk; j++, ko += kc) {
          acc = FloatVector.broadcast(S, ds[j]).fma(FloatVector.fromArray(S, k, ko, mask), acc);
        }
        FloatVector.fromArray(S, dq, qo + c0, mask).add(acc.mul(scale)).intoArray(dq, qo + c0, mask);
      }
      // dk_j += scale * ds_j q_i ; dv_j += p_j dO_i
      for (int c0 = 0; c0 < d; c0 += V) {
        var mask = S.indexInRange(c0, d);
        FloatVector qv = FloatVector.fromArray(S, q, qo + c0, mask).mul(scale);
        FloatVector gv = FloatVector.fromArray(S, g, c0, mask);
        int ro = task.s0 * d + c0;
        for (int j = 0; j < nk; j++, ro += d) {
          FloatVector.broadcast(S, ds[j]).fma(qv, FloatVector.fromArray(S, dkh, ro, mask)).intoArray(dkh, ro, mask);
          FloatVector.broadcast(S, p[j]).fma(gv, FloatVector.fromArray(S, dvh, ro, mask)).intoArray(dvh, ro, mask);
        }
      }
    }
  }

  /** out[j] = sum_c x[c] * mT[c*ld + j] for j < n (n a multiple of the vector length). */
  private static void scores(float[] mT, int ld, float[] x, int d, int n, float[] out) {
    for (int j = 0; j < n; j += V) {
      FloatVector acc = FloatVector.zero(S);
      for (int c = 0, o = j; c < d; c++, o += ld) {
        acc = FloatVector.broadcast(S, x[c]).fma(FloatVector.fromArray(S, mT, o), acc);
      }
      acc.intoArray(out, j);
    }
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

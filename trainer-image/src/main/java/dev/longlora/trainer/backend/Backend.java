package dev.longlora.trainer.backend;

/**
 * The compute seam: every numerical op of a LLaMA training step, on tensors the backend owns. The CPU backend
 * ({@code backend.cpu.CpuBackend}) is the reference; a CUDA backend implements the same contract with the same
 * numerics (longlora-method.md sections 2 and 2b).
 *
 * <p>Conventions: tensors are row-major fp32; a sequence of T tokens is T rows. Head-split activations are
 * [T, heads * headDim] with head h in columns [h*d, (h+1)*d). Linear weights are HF-shaped [out, in].
 * <b>Backward ops accumulate</b> ({@code +=}) into their gradient outputs, so residual branches and
 * micro-batches add up without extra copies; zero a gradient with {@link #zero} first when needed.
 * Nullable gradient outputs are skipped (frozen parameters).
 */
public interface Backend extends AutoCloseable {

    /** A short human-readable name, e.g. "cpu(2 threads)". */
    String name();

    // ---- memory -------------------------------------------------------------------------------------------

    /** A new zero-filled tensor of the given shape. */
    Tensor allocate(int... shape);

    /** Copies {@code data} (length numel) into {@code t}. */
    void upload(Tensor t, float[] data);

    /** Copies {@code t} out into a new array. */
    float[] download(Tensor t);

    /** Bytes currently held by live tensors of this backend. */
    long bytesInUse();

    /** The highest {@link #bytesInUse()} since the last {@link #resetPeakBytes()}. */
    long peakBytes();

    /** Starts a new peak-memory measurement at the current usage. */
    void resetPeakBytes();

    // ---- elementwise and reductions ----------------------------------------------------------------------

    /** dst = src (same numel). */
    void copy(Tensor dst, Tensor src);

    /** t = 0. */
    void zero(Tensor t);

    /** x *= a. */
    void scale(Tensor x, float a);

    /** y += a * x. */
    void axpy(float a, Tensor x, Tensor y);

    /** Sum of squares of all elements, accumulated in double. */
    double sumOfSquares(Tensor x);

    // ---- linear algebra ----------------------------------------------------------------------------------

    /**
     * c = alpha * op(a) * op(b) + beta * c on the matrix views of the tensors, where op(x) is x or x transposed.
     * With beta = 0, c's previous contents are ignored (even NaN).
     */
    void matmul(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta);

    // ---- layers ------------------------------------------------------------------------------------------

    /** out[t] = table[tokens[t]]; out [T, C], table [V, C]. */
    void embeddingForward(Tensor out, Tensor table, int[] tokens);

    /** dTable[tokens[t]] += dOut[t]. */
    void embeddingBackward(Tensor dTable, Tensor dOut, int[] tokens);

    /**
     * RMSNorm per row in fp32: out = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps); stores rstd [T] for
     * backward.
     */
    void rmsnormForward(Tensor out, Tensor rstd, Tensor x, Tensor w, float eps);

    /** Accumulates dx and (if non-null) dw of RMSNorm given dOut, the input x, w and the stored rstd. */
    void rmsnormBackward(Tensor dx, Tensor dw, Tensor dOut, Tensor x, Tensor w, Tensor rstd);

    /**
     * Rotary embedding, in place, HF rotate_half convention: for head dimension d and i < d/2 the pair
     * (x[i], x[i + d/2]) at position p is rotated by angle (p / factor) * theta^(-2i/d). Row t has position t.
     * x is [T, heads * d].
     */
    default void ropeForward(Tensor x, int heads, float theta, float factor) {
        ropeForward(x, heads, theta, factor, 0);
    }

    /**
     * {@link #ropeForward(Tensor, int, float, float)} with row t at position {@code startPosition + t}: the tokens of a
     * decoding step that follow {@code startPosition} cached ones.
     */
    void ropeForward(Tensor x, int heads, float theta, float factor, int startPosition);

    /** The transpose of {@link #ropeForward} (rotation by the negative angle), in place on a gradient. */
    void ropeBackward(Tensor dx, int heads, float theta, float factor);

    /**
     * Causal attention inside segments, with grouped-query heads. q [T, H*d], k and v [T, Hkv*d], out [T, H*d],
     * lse [H, T] (log-sum-exp of the scaled scores per query row, kept for backward). Query head h reads KV head
     * h / (H / Hkv). Segment of position p for head h: seg = floor((p + s) / G) with s = G/2 when {@code shiftHalf}
     * and h >= H/2, else 0; a query attends to keys of its own segment at positions <= its own. Full causal
     * attention is G = T, shiftHalf = false. Scale 1/sqrt(d).
     */
    void attentionForward(
            Tensor out,
            Tensor lse,
            Tensor q,
            Tensor k,
            Tensor v,
            int heads,
            int kvHeads,
            int groupSize,
            boolean shiftHalf);

    /** Accumulates dq, dk, dv of {@link #attentionForward}, given dOut and the forward's out and lse. */
    void attentionBackward(
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
            boolean shiftHalf);

    /**
     * Decoding: causal attention of T new tokens at positions [start, start + T) over a key/value cache, with
     * grouped-query heads read in place (nothing repeated). First stores k and v [T, Hkv*d] (the new tokens' keys,
     * already rotated, and values) at positions [start, start + T) of keyCache and valueCache (laid out as
     * {@link KvCacheLayout} says; positions [0, start) hold the earlier tokens'), then query row t of q [T, H*d]
     * attends to cached positions 0..start+t, query head h reading KV head h / (H / Hkv). out [T, H*d]. Scale
     * 1/sqrt(d). Row t equals row start + t of {@link #attentionForward} with full causal attention over all
     * start + T tokens.
     */
    void cachedAttentionForward(
            Tensor out,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor keyCache,
            Tensor valueCache,
            int start,
            int heads,
            int kvHeads);

    /** h = silu(gate) * up, elementwise. */
    void swigluForward(Tensor h, Tensor gate, Tensor up);

    /** Accumulates dGate and dUp of {@link #swigluForward}. */
    void swigluBackward(Tensor dGate, Tensor dUp, Tensor dh, Tensor gate, Tensor up);

    /**
     * Inverted dropout: out = x * mask / (1 - p), the mask drawn from a counter-based hash of (seed, element index),
     * so backward regenerates it and every backend draws the same mask.
     */
    void dropoutForward(Tensor out, Tensor x, float p, long seed);

    /** dx += dOut * mask / (1 - p), with the mask of {@link #dropoutForward} for the same seed. */
    void dropoutBackward(Tensor dx, Tensor dOut, float p, long seed);

    /**
     * Next-token cross-entropy rows: for each row t with labels[t] != -100, loss_t = logsumexp(logits[t]) -
     * logits[t][labels[t]]. Returns the sum of loss_t (double). If {@code dLogits} is non-null it is
     * <b>overwritten</b> with gradScale * (softmax(logits[t]) - onehot(labels[t])) (zero rows where ignored);
     * dLogits may be the same tensor as logits (in place).
     */
    double crossEntropy(Tensor logits, int[] labels, Tensor dLogits, float gradScale);

    /**
     * The LM head and {@link #crossEntropy} in one op, so the full [T, V] logits never exist: logits = hidden x
     * lmHead^T (hidden [T, C], lmHead [V, C], HF layout), one chunk at a time (rows on the CPU, vocabulary columns on
     * CUDA; the extra memory is one chunk of logits, not T x V). Returns the sum of loss_t over rows whose label is
     * not -100. When {@code dHidden} is non-null, <b>accumulates</b> gradScale * (softmax - onehot) x lmHead into it;
     * when {@code dLmHead} is non-null, accumulates gradScale * (softmax - onehot)^T x hidden into it. The values are
     * those of the unfused ops (matmul, crossEntropy, two matmuls) up to the order of fp32 sums.
     */
    double lmHeadCrossEntropy(
            Tensor hidden, Tensor lmHead, int[] labels, Tensor dHidden, Tensor dLmHead, float gradScale);

    /** Index of the largest element of each row (first on ties). */
    int[] argmaxRows(Tensor x);

    // ---- optimizer ---------------------------------------------------------------------------------------

    /**
     * One AdamW step (decoupled weight decay, bias-corrected moments, PyTorch's formula): p -= lr*wd*p;
     * m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * (m/(1-b1^step)) / (sqrt(v/(1-b2^step)) + eps).
     * step counts from 1.
     */
    void adamwUpdate(
            Tensor param,
            Tensor grad,
            Tensor m,
            Tensor v,
            float lr,
            float beta1,
            float beta2,
            float eps,
            float weightDecay,
            long step);

    /**
     * The collectives this backend's rank trains with, given the gang's host transport (the TCP ring or the in-JVM
     * gang, already formed): the host gang itself where buffers live in host memory; a device transport (NCCL)
     * formed through it on GPUs. A returned object other than {@code host} is the caller's to close.
     */
    default dev.longlora.trainer.dist.Collectives collectivesOver(
            dev.longlora.trainer.dist.Collectives host, java.time.Duration collectiveTimeout) {
        return host;
    }

    /** Releases threads or device contexts. */
    @Override
    default void close() {}
}

package dev.longlora.trainer.backend;

import java.util.Arrays;

/**
 * The argument checks of the {@link Backend} ops that do not depend on where the tensors live. Every backend calls
 * them, so a bad call fails the same way, with the same message, on the CPU reference and on a GPU; checks that
 * only one backend needs (a kernel's limits, a tensor of another backend) stay in that backend.
 */
public final class BackendChecks {
    private BackendChecks() {}

    /** The element count of a new tensor of {@code shape}; every dimension must be positive. */
    public static long numel(int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s <= 0) {
                throw new IllegalArgumentException(
                        "tensor shape " + Arrays.toString(shape) + " has a non-positive dimension");
            }
            n *= s;
        }
        return n;
    }

    /** {@code data} fills {@code t} exactly. */
    public static void uploadLength(Tensor t, float[] data) {
        if (data.length != t.numel()) {
            throw new IllegalArgumentException("upload of " + data.length + " values into " + t + " with " + t.numel());
        }
    }

    /** The elementwise op {@code op} reads and writes as many elements in {@code x} as in {@code y}. */
    public static void sameSize(Tensor x, Tensor y, String op) {
        if (x.numel() != y.numel()) {
            throw new IllegalArgumentException(op + " of " + x + " and " + y + ": sizes differ");
        }
    }

    /** The sizes of c = op(a) x op(b) on the matrix views of the tensors; they must fit. */
    public static MatmulShape matmul(Tensor c, Tensor a, boolean transA, Tensor b, boolean transB) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (k != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("matmul shapes do not fit: op(a)=[" + m + "," + k + "] op(b)=[" + kb
                    + "," + n + "] c=" + Arrays.toString(c.shape()));
        }
        return new MatmulShape(m, n, k);
    }

    /** Every token id is a row of an embedding table of {@code vocab} rows. */
    public static void tokensInVocabulary(int[] tokens, int vocab) {
        for (int tok : tokens) {
            if (tok < 0 || tok >= vocab) {
                throw new IllegalArgumentException("token id " + tok + " outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /** The head dimension of rotary embedding over {@code x}: its columns split into {@code heads} of even size. */
    public static int ropeHeadDim(Tensor x, int heads) {
        int dim = heads > 0 ? x.cols() / heads : 0;
        if (heads <= 0 || x.cols() % heads != 0 || dim % 2 != 0) {
            throw new IllegalArgumentException(
                    "rope: " + x.cols() + " columns do not split into " + heads + " heads of even size");
        }
        return dim;
    }

    /**
     * The head dimension of attention over q [T, H*d] and k [T, Hkv*d]: the query heads are a multiple of the KV
     * heads, both split into heads of one size, and the S2 group size divides T (and is even when half the heads
     * shift by half a group).
     */
    public static int attentionHeadDim(Tensor q, Tensor k, int heads, int kvHeads, int groupSize, boolean shiftHalf) {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "attention: " + heads + " query heads are not a multiple of " + kvHeads + " KV heads");
        }
        int d = q.cols() / heads;
        if (q.cols() != heads * d || k.cols() != kvHeads * d) {
            throw new IllegalArgumentException("attention: q has " + q.cols() + " and k " + k.cols()
                    + " columns, which do not split into " + heads + "/" + kvHeads + " heads of one size");
        }
        int tokens = q.rows();
        if (groupSize < 1 || tokens % groupSize != 0 || (shiftHalf && groupSize % 2 != 0)) {
            throw new IllegalArgumentException(
                    "attention group size " + groupSize + " does not fit sequence length " + tokens);
        }
        return d;
    }

    /** Cross-entropy has one label per row of logits. */
    public static void labelsPerRow(int[] labels, int rows) {
        if (labels.length != rows) {
            throw new IllegalArgumentException(labels.length + " labels for " + rows + " rows of logits");
        }
    }

    /**
     * The fused LM head's operands fit: hidden [T, C], lmHead [V, C], one label per row of hidden, and gradients (when
     * given) of their tensors' shapes.
     */
    public static void lmHead(Tensor hidden, Tensor lmHead, int[] labels, Tensor dHidden, Tensor dLmHead) {
        if (lmHead.cols() != hidden.cols()) {
            throw new IllegalArgumentException("lm head " + lmHead + " does not fit hidden states " + hidden
                    + ": both need " + hidden.cols() + " columns");
        }
        if (labels.length != hidden.rows()) {
            throw new IllegalArgumentException(
                    labels.length + " labels for " + hidden.rows() + " rows of hidden states");
        }
        if (dHidden != null && !Arrays.equals(dHidden.shape(), hidden.shape())) {
            throw new IllegalArgumentException(
                    "lm head: gradient " + dHidden + " does not match hidden states " + hidden);
        }
        if (dLmHead != null && !Arrays.equals(dLmHead.shape(), lmHead.shape())) {
            throw new IllegalArgumentException("lm head: gradient " + dLmHead + " does not match weight " + lmHead);
        }
        labelsInVocabulary(labels, lmHead.rows());
    }

    /** Every label is -100 (an ignored row) or an id of the vocabulary. */
    public static void labelsInVocabulary(int[] labels, int vocab) {
        for (int label : labels) {
            if (label != -100 && (label < 0 || label >= vocab)) {
                throw new IllegalArgumentException("label " + label + " outside the vocabulary [0, " + vocab + ")");
            }
        }
    }
}

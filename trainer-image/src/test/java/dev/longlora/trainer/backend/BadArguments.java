package dev.longlora.trainer.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.function.Consumer;

/**
 * One bad call of each op that {@link BackendChecks} guards, to run on every backend: each must fail with an
 * {@link IllegalArgumentException} whose message starts as the shared check words it.
 */
public final class BadArguments {
    private BadArguments() {}

    /** A bad call, what it is, and the start of the message it must fail with. */
    public record BadCall(String what, String messageStart, Consumer<Backend> call) {
        public IllegalArgumentException failureOn(Backend be) {
            return assertThrows(IllegalArgumentException.class, () -> call.accept(be), what);
        }
    }

    public static final List<BadCall> ALL = List.of(
            new BadCall(
                    "allocate with a zero dimension",
                    "tensor shape [2, 0] has a non-positive dimension",
                    be -> be.allocate(2, 0)),
            new BadCall(
                    "upload of the wrong length",
                    "upload of 5 values into ",
                    be -> be.upload(be.allocate(2, 3), new float[5])),
            new BadCall("copy between sizes", "copy of ", be -> be.copy(be.allocate(2, 3), be.allocate(3, 3))),
            new BadCall("axpy between sizes", "axpy of ", be -> be.axpy(1f, be.allocate(6), be.allocate(5))),
            new BadCall(
                    "matmul of unfit shapes",
                    "matmul shapes do not fit: op(a)=[2,3] op(b)=[2,3] c=[2, 3]",
                    be -> be.matmul(be.allocate(2, 3), be.allocate(2, 3), false, be.allocate(2, 3), false, 1f, 0f)),
            new BadCall(
                    "embedding of a token outside the vocabulary",
                    "token id 4 outside the vocabulary [0, 4)",
                    be -> be.embeddingForward(be.allocate(2, 3), be.allocate(4, 3), new int[] {1, 4})),
            new BadCall(
                    "embedding backward of a negative token",
                    "token id -1 outside the vocabulary [0, 4)",
                    be -> be.embeddingBackward(be.allocate(4, 3), be.allocate(2, 3), new int[] {-1, 0})),
            new BadCall(
                    "rope over odd heads",
                    "rope: 6 columns do not split into 2 heads of even size",
                    be -> be.ropeForward(be.allocate(4, 6), 2, 10000f, 1f)),
            new BadCall(
                    "attention heads not a multiple of KV heads",
                    "attention: 4 query heads are not a multiple of 3 KV heads",
                    be -> attention(be, 8, 6, 4, 3, 8, false)),
            new BadCall(
                    "attention k of the wrong width",
                    "attention: q has 8 and k 6 columns",
                    be -> attention(be, 8, 6, 4, 2, 8, false)),
            new BadCall(
                    "attention group size not dividing the length",
                    "attention group size 3 does not fit sequence length 8",
                    be -> attention(be, 8, 4, 4, 2, 3, false)),
            new BadCall(
                    "attention backward with an odd shifted group",
                    "attention group size 1 does not fit sequence length 8",
                    be -> be.attentionBackward(
                            be.allocate(8, 8),
                            be.allocate(8, 4),
                            be.allocate(8, 4),
                            be.allocate(8, 8),
                            be.allocate(8, 8),
                            be.allocate(8, 4),
                            be.allocate(8, 4),
                            be.allocate(8, 8),
                            be.allocate(4, 8),
                            4,
                            2,
                            1,
                            true)),
            new BadCall(
                    "swiglu between sizes",
                    "swiglu of ",
                    be -> be.swigluForward(be.allocate(6), be.allocate(5), be.allocate(6))),
            new BadCall(
                    "swiglu backward between sizes",
                    "swiglu backward of ",
                    be -> be.swigluBackward(
                            be.allocate(6), be.allocate(6), be.allocate(5), be.allocate(6), be.allocate(6))),
            new BadCall(
                    "cross-entropy with too few labels",
                    "1 labels for 2 rows of logits",
                    be -> be.crossEntropy(be.allocate(2, 5), new int[] {0}, null, 1f)),
            new BadCall(
                    "cross-entropy with a label outside the vocabulary",
                    "label 5 outside the vocabulary [0, 5)",
                    be -> be.crossEntropy(be.allocate(2, 5), new int[] {-100, 5}, null, 1f)),
            new BadCall(
                    "fused LM head with too few labels",
                    "1 labels for 2 rows of hidden states",
                    be -> be.lmHeadCrossEntropy(be.allocate(2, 3), be.allocate(5, 3), new int[] {0}, null, null, 1f)),
            new BadCall(
                    "fused LM head with a label outside the vocabulary",
                    "label 5 outside the vocabulary [0, 5)",
                    be -> be.lmHeadCrossEntropy(
                            be.allocate(2, 3), be.allocate(5, 3), new int[] {-100, 5}, null, null, 1f)),
            new BadCall(
                    "adamw between sizes",
                    "adamw of ",
                    be -> be.adamwUpdate(
                            be.allocate(6),
                            be.allocate(5),
                            be.allocate(6),
                            be.allocate(6),
                            1e-3f,
                            0.9f,
                            0.999f,
                            1e-8f,
                            0f,
                            1)));

    /** Forward attention over 8 tokens with q [8, qCols] and k, v [8, kCols]. */
    private static void attention(
            Backend be, int qCols, int kCols, int heads, int kvHeads, int groupSize, boolean shiftHalf) {
        be.attentionForward(
                be.allocate(8, qCols),
                be.allocate(heads, 8),
                be.allocate(8, qCols),
                be.allocate(8, kCols),
                be.allocate(8, kCols),
                heads,
                kvHeads,
                groupSize,
                shiftHalf);
    }
}

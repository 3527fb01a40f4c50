package dev.longlora.trainer.backend.cpu;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's fused LM head + cross-entropy against the unfused ops it replaces (full logits by matmul,
 * crossEntropy in place, dHidden and dLmHead by two more matmuls), for chunks of 1, 7, the default and all rows.
 */
class FusedLmHeadTest {
    private static final int ROWS = 300;
    private static final int HIDDEN = 48;
    private static final int VOCAB = 517;
    private static final float GRAD_SCALE = 0.25f;
    private static final float[] DHIDDEN_START = random(ROWS * HIDDEN, 0, 0.1, 3);

    /**
     * Loss, dHidden and dLmHead of one evaluation; dLmHead accumulates onto a random start, dHidden onto zeros (as
     * in the model) or onto {@link #DHIDDEN_START}.
     */
    private record Result(double loss, float[] dHidden, float[] dLmHead) {}

    private static int[] labels() {
        int[] labels = new int[ROWS];
        for (int t = 0; t < ROWS; t++) {
            labels[t] = (t * 37 + 11) % VOCAB;
        }
        labels[3] = -100;
        labels[ROWS - 1] = -100;
        for (int t = 20; t < 40; t++) {
            labels[t] = -100; // with 7-row chunks, rows 21..27 are a chunk of ignored rows only
        }
        return labels;
    }

    private static Tensor upload(Backend be, float[] data, int... shape) {
        Tensor t = be.allocate(shape);
        be.upload(t, data);
        return t;
    }

    private static Result unfused(int[] labels, float[] dHiddenStart) {
        try (CpuBackend be = new CpuBackend(2)) {
            Tensor h = upload(be, random(ROWS * HIDDEN, 0, 1, 1), ROWS, HIDDEN);
            Tensor w = upload(be, random(VOCAB * HIDDEN, 0, 0.3, 2), VOCAB, HIDDEN);
            Tensor dh = upload(be, dHiddenStart, ROWS, HIDDEN);
            Tensor dw = upload(be, random(VOCAB * HIDDEN, 0, 0.1, 4), VOCAB, HIDDEN);
            Tensor logits = be.allocate(ROWS, VOCAB);
            be.matmul(logits, h, false, w, true, 1f, 0f);
            double loss = be.crossEntropy(logits, labels, logits, GRAD_SCALE);
            be.matmul(dw, logits, true, h, false, 1f, 1f);
            be.matmul(dh, logits, false, w, false, 1f, 1f);
            return new Result(loss, be.download(dh), be.download(dw));
        }
    }

    private static Result fused(
            int chunkRows, int[] labels, float[] dHiddenStart, boolean wantHidden, boolean wantHead) {
        try (CpuBackend be = new CpuBackend(2, chunkRows)) {
            Tensor h = upload(be, random(ROWS * HIDDEN, 0, 1, 1), ROWS, HIDDEN);
            Tensor w = upload(be, random(VOCAB * HIDDEN, 0, 0.3, 2), VOCAB, HIDDEN);
            Tensor dh = upload(be, dHiddenStart, ROWS, HIDDEN);
            Tensor dw = upload(be, random(VOCAB * HIDDEN, 0, 0.1, 4), VOCAB, HIDDEN);
            long before = be.bytesInUse();
            be.resetPeakBytes();
            double loss = be.lmHeadCrossEntropy(h, w, labels, wantHidden ? dh : null, wantHead ? dw : null, GRAD_SCALE);
            long extra = be.peakBytes() - before;
            int chunk = Math.min(chunkRows, ROWS);
            long buffers = 4L * (2L * chunk * VOCAB + 2L * chunk * HIDDEN);
            assertTrue(extra <= buffers, "chunk " + chunkRows + ": " + extra + " bytes beyond " + buffers);
            assertEquals(before, be.bytesInUse(), "the loss buffers are released");
            return new Result(loss, be.download(dh), be.download(dw));
        }
    }

    private static double relativeL2(float[] want, float[] got) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < want.length; i++) {
            diff += ((double) want[i] - got[i]) * ((double) want[i] - got[i]);
            norm += (double) want[i] * want[i];
        }
        return Math.sqrt(diff / norm);
    }

    @Test
    void everyChunkSizeGivesTheUnfusedLossAndGradients() {
        int[] labels = labels();
        float[] zeros = new float[ROWS * HIDDEN];
        Result want = unfused(labels, zeros);
        for (int chunk : new int[] {1, 7, CpuBackend.LOSS_CHUNK_ROWS, ROWS, 1000}) {
            Result got = fused(chunk, labels, zeros, true, true);
            // Each row's logits, loss and dHidden come from the same operations as in the unfused ops.
            assertEquals(want.loss, got.loss, 0.0, "loss, chunk " + chunk);
            assertArrayEquals(want.dHidden, got.dHidden, 0f, "dHidden, chunk " + chunk);
            // dLmHead sums over rows chunk by chunk: fp32 rounding only, none with one chunk of all rows.
            double err = relativeL2(want.dLmHead, got.dLmHead);
            assertTrue(err < (chunk >= ROWS ? 1e-9 : 1e-6), "dLmHead, chunk " + chunk + ": relative L2 " + err);
        }
    }

    @Test
    void gradientsAccumulateAndEachIsOptional() {
        int[] labels = labels();
        Result want = unfused(labels, DHIDDEN_START);
        Result none = fused(7, labels, DHIDDEN_START, false, false);
        assertEquals(want.loss, none.loss, 0.0, "loss without gradients");
        Result hiddenOnly = fused(7, labels, DHIDDEN_START, true, false);
        // Added after the chunk's product instead of inside it: rounding differs in the last bit.
        assertTrue(relativeL2(want.dHidden, hiddenOnly.dHidden) < 1e-6, "dHidden accumulates");
        assertArrayEquals(none.dLmHead, hiddenOnly.dLmHead, 0f, "dLmHead untouched");
        Result headOnly = fused(7, labels, DHIDDEN_START, false, true);
        assertArrayEquals(DHIDDEN_START, headOnly.dHidden, 0f, "dHidden untouched");
        assertTrue(relativeL2(want.dLmHead, headOnly.dLmHead) < 1e-6, "dLmHead accumulates");
    }
}

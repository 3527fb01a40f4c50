package dev.longlora.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HeldOutSplitTest {

    @Test
    void noTrainingWindowReachesTheHeldOutTokensInAnyEpoch() {
        TokenSource corpus = SyntheticCorpus.generate(7, 50_000);
        HeldOutSplit split = HeldOutSplit.of(corpus.length(), 0.05);
        assertEquals((long) Math.ceil(corpus.length() * 0.05), split.heldOutTokens());
        int seqLen = 256;
        TrainingWindows windows = new TrainingWindows(split.training(corpus), seqLen, 3);
        for (int i = 0; i < 3 * windows.windowsPerEpoch(); i++) {
            TrainingWindows.Window w = windows.next();
            assertTrue(w.start() + seqLen <= split.boundary(), "window at " + w.start());
        }
        // the same windows over the whole corpus do reach into the tail: the check above can fail
        TrainingWindows unsplit = new TrainingWindows(corpus, seqLen, 3);
        boolean reached = false;
        for (int i = 0; i < unsplit.windowsPerEpoch(); i++)
            reached |= unsplit.next().start() + seqLen > split.boundary();
        assertTrue(reached);
    }

    @Test
    void theHeldOutPartIsTheTailAndNothingOutsideIt() {
        int[] tokens = new int[1000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i;
        TokenSource corpus = TokenSource.of(tokens, "counting");
        HeldOutSplit split = HeldOutSplit.of(1000, 0.1);
        TokenSource heldOut = split.heldOut(corpus);
        assertEquals(100, heldOut.length());
        assertEquals(900, heldOut.slice(0, 1)[0]);
        assertEquals(999, heldOut.slice(99, 1)[0]);
        assertThrows(IndexOutOfBoundsException.class, () -> heldOut.slice(99, 2));
        TokenSource training = split.training(corpus);
        assertEquals(900, training.length());
        assertThrows(IndexOutOfBoundsException.class, () -> training.slice(850, 51));
        assertEquals(corpus, HeldOutSplit.of(1000, 0).training(corpus), "nothing held out: the source itself");
    }
}

package dev.longlora.trainer.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LongRangeCorpusTest {
    private final DemoVocabulary vocabulary = DemoVocabulary.get();

    @Test
    void sameSeedGivesTheSameSequencesAndAnotherSeedDoesNot() {
        var a = new LongRangeCorpus(42, 0.3, 0.3, 512);
        var b = new LongRangeCorpus(42, 0.3, 0.3, 512);
        var c = new LongRangeCorpus(43, 0.3, 0.3, 512);
        boolean differs = false;
        for (int i = 0; i < 20; i++) {
            int[] x = a.sequence(512).tokens();
            assertArrayEquals(x, b.sequence(512).tokens(), "sequence " + i);
            differs |= !Arrays.equals(x, c.sequence(512).tokens());
        }
        assertTrue(differs, "another seed must give other data");
    }

    @Test
    void longRecordsDocumentsHaveAnswersWhoseSourceLiesBeyondTheShortContext() {
        Document doc = new LongRangeCorpus(7, 0, 0, 448).recordsDocument(4096);
        assertEquals(4096, doc.length());
        assertFalse(doc.dependencies().isEmpty());
        long beyond =
                doc.dependencies().stream().filter(d -> d.distance() > 128).count();
        // Lags are uniform in [8, 448]: about 3/4 of the recalls lie beyond a 128-token context.
        assertTrue(
                beyond > doc.dependencies().size() / 2,
                beyond + " of " + doc.dependencies().size() + " answers lie more than 128 tokens after their source");
        for (Dependency d : doc.dependencies()) {
            assertTrue(d.distance() <= 448 + 60, "lag " + d.distance());
            assertAnswerOnlyPredictableFromItsSource(doc.tokens(), d);
        }
    }

    /** The answer repeats its source; the name cue before it occurs nowhere in between (so nothing nearer gives it away). */
    private void assertAnswerOnlyPredictableFromItsSource(int[] tokens, Dependency d) {
        assertEquals(tokens[d.sourcePosition()], tokens[d.answerPosition()]);
        assertTrue(vocabulary.isDigit(tokens[d.answerPosition()]));
        int nameAtSource = nameBefore(tokens, d.sourcePosition());
        int nameAtAnswer = nameBefore(tokens, d.answerPosition());
        assertEquals(vocabulary.word(nameAtSource), vocabulary.word(nameAtAnswer));
        for (int p = d.sourcePosition() + 1; p < d.answerPosition() - LongRangeCorpus.CODE_DIGITS; p++) {
            assertNotEquals(
                    nameAtSource,
                    tokens[p],
                    "the name " + vocabulary.word(nameAtSource) + " reappears at " + p + " between source and answer");
        }
    }

    private int nameBefore(int[] tokens, int position) {
        int p = position;
        while (vocabulary.isDigit(tokens[p])) {
            p--;
        }
        assertTrue(DemoVocabulary.NAMES.contains(vocabulary.word(tokens[p])), "a name precedes every code");
        return tokens[p];
    }

    @Test
    void shortContextCorpusKeepsLagsWithinItsContext() {
        var corpus = new LongRangeCorpus(3, 0.3, 0.3, 128);
        for (int i = 0; i < 50; i++) {
            Document seq = corpus.sequence(128);
            assertEquals(128, seq.length());
            for (Dependency d : seq.dependencies()) {
                assertTrue(d.distance() < 128, "dependency of " + d.distance() + " tokens in a 128-token sequence");
                assertEquals(seq.tokens()[d.sourcePosition()], seq.tokens()[d.answerPosition()]);
            }
        }
    }

    @Test
    void sequencesPackDocumentsOfVaryingLengthSeparatedByEndOfText() {
        var corpus = new LongRangeCorpus(5, 0.3, 0.3, 512);
        var lastDocumentEnds = new java.util.HashSet<Integer>();
        for (int i = 0; i < 40; i++) {
            int[] tokens = corpus.sequence(512).tokens();
            assertEquals(512, tokens.length);
            assertEquals(vocabulary.eos(), tokens[511], "every document ends with end-of-text");
            int firstEos = 0;
            while (tokens[firstEos] != vocabulary.eos()) {
                firstEos++;
            }
            lastDocumentEnds.add(firstEos);
            assertTrue(
                    firstEos >= LongRangeCorpus.MIN_DOCUMENT,
                    "documents are at least " + LongRangeCorpus.MIN_DOCUMENT + " tokens");
        }
        assertTrue(lastDocumentEnds.size() > 10, "document lengths vary: " + lastDocumentEnds);
    }

    @Test
    void badMixIsRejectedWithTheFieldNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LongRangeCorpus(1, 0.7, 0.7, 128));
        assertTrue(e.getMessage().contains("passkeyFraction"));
        assertThrows(IllegalArgumentException.class, () -> new LongRangeCorpus(1, 0.3, 0.3, 2));
    }
}

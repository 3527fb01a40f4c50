package dev.longlora.trainer.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PasskeyPromptTest {
    private final DemoVocabulary vocabulary = DemoVocabulary.get();

    @Test
    void keyIsPlacedAtTheRequestedDepthAndAnsweredAtTheEnd() {
        int length = 512;
        int filler = length - PasskeyPrompt.fixedTokens(5);
        for (double depth : new double[] {0.0, 0.1, 0.5, 0.9, 1.0}) {
            PasskeyPrompt prompt = PasskeyPrompt.build(length, depth, 12345);
            assertEquals(length, prompt.tokens().length);
            assertEquals(Math.round(depth * filler), prompt.statementStart(), "depth " + depth);
            assertEquals(
                    "the pass key is 1 2 3 4 5 . remember it .",
                    vocabulary.decode(prompt.tokens(), prompt.statementStart(), prompt.statementStart() + 13));
            assertEquals(
                    "what was the pass key ? the pass key is 1 2 3 4 5",
                    vocabulary.decode(prompt.tokens(), length - 15, length));
            assertEquals(5, prompt.answerPositions().length);
            assertEquals(length - 5, prompt.answerPositions()[0]);
            for (Dependency d : prompt.dependencies()) {
                assertEquals(prompt.tokens()[d.sourcePosition()], prompt.tokens()[d.answerPosition()]);
            }
        }
        // At depth 0 the key sits far beyond a 128-token context from the question.
        assertTrue(PasskeyPrompt.build(length, 0.0, 777).distance() > 400);
    }

    @Test
    void isAppearsOnlyRightBeforeTheKeySoTheCueIsUnique() {
        PasskeyPrompt prompt = PasskeyPrompt.build(256, 0.3, 4071);
        int is = vocabulary.id("is");
        int count = 0;
        for (int i = 0; i < prompt.tokens().length - 1; i++) {
            if (prompt.tokens()[i] == is) {
                count++;
                assertTrue(vocabulary.isDigit(prompt.tokens()[i + 1]), "'is' at " + i + " is followed by a digit");
            }
        }
        assertEquals(2, count);
    }

    @Test
    void badArgumentsAreRejectedClearly() {
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompt.build(512, 0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompt.build(512, 0.5, 50_001));
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompt.build(512, 1.5, 7));
        var e = assertThrows(IllegalArgumentException.class, () -> PasskeyPrompt.build(20, 0.5, 12345));
        assertTrue(e.getMessage().contains("at least"), e.getMessage());
    }
}

package dev.longlora.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

class PasskeyPromptsTest {
    private static final ByteTokenizer BYTES = ByteTokenizer.INSTANCE;

    @Test
    void promptFollowsLongLorasTextAndFillsTheLengthWithinOneFillerGroup() {
        for (int length : new int[] {400, 1024, 4096}) {
            PasskeyCase c = PasskeyPrompts.build(BYTES, length, 0.5, 31337);
            int[] t = c.tokens();
            assertTrue(t.length <= length, "prompt of " + t.length + " tokens for length " + length);
            int group = BYTES.encode(" " + PasskeyPrompts.FILLER).length;
            assertTrue(
                    t.length > length - group,
                    "prompt of " + t.length + " tokens leaves more than one filler group of " + length);
            assertEquals(ByteTokenizer.BOS, t[0], "BOS first, as HF tokenizers add it");
            String text = BYTES.decode(t);
            assertTrue(text.startsWith(PasskeyPrompts.TASK + "\n"), text);
            assertTrue(text.endsWith("\nWhat is the pass key? The pass key is"), text);
            assertTrue(text.contains("\nThe pass key is 31337. Remember it. 31337 is the pass key.\n"), text);
            assertEquals(
                    c.fillerBefore(),
                    count(text.substring(0, text.indexOf("The pass key is 31337")), PasskeyPrompts.FILLER));
            assertEquals(
                    c.fillerAfter(), count(text.substring(text.indexOf("is the pass key.")), PasskeyPrompts.FILLER));
            assertTrue(Math.abs(c.fillerBefore() - c.fillerAfter()) <= 1, "depth 0.5 splits the filler in half: " + c);
            assertEquals("31337", c.answer());
        }
    }

    @Test
    void depthPlacesTheKeyLineAtTheStartOrTheEnd() {
        PasskeyCase first = PasskeyPrompts.build(BYTES, 2000, 0.0, 7);
        PasskeyCase last = PasskeyPrompts.build(BYTES, 2000, 1.0, 7);
        assertEquals(0, first.fillerBefore());
        assertEquals(0, last.fillerAfter());
        assertEquals(first.fillerAfter(), last.fillerBefore());
        assertTrue(BYTES.decode(last.tokens()).endsWith("7 is the pass key.\n\nWhat is the pass key? The pass key is"));
    }

    @Test
    void tooShortALengthAndBadKeysAreRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PasskeyPrompts.build(BYTES, 100, 0.5, 5));
        assertTrue(e.getMessage().contains("length 100 is too short"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompts.build(BYTES, 1000, 0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompts.build(BYTES, 1000, 0.5, 50_001));
        assertThrows(IllegalArgumentException.class, () -> PasskeyPrompts.build(BYTES, 1000, 1.5, 5));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }
}

package dev.longlora.trainer.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * LongLoRA's passkey retrieval test (longlora-method.md section 5) in the demo's words: a key hidden at a chosen
 * depth inside repeated filler, then the question, then the key itself. The key's tokens come last, so one
 * teacher-forced forward pass scores retrieval: every answer token must be the argmax at the position before it.
 *
 * @param tokens          exactly the requested length, ending with the key's digits
 * @param statementStart  where "the pass key is ..." starts
 * @param answerPositions positions of the key's digits at the end (the labels to check)
 * @param key             the hidden number, 1..50000
 */
public record PasskeyPrompt(
        int[] tokens, int statementStart, int[] answerPositions, int key, List<Dependency> dependencies) {
    /**
     * The paper's filler, repeated as long as needed, reworded so that "is" appears only right before the key: a
     * two-layer model can then find the key by one induction step (the token after the earlier "is").
     */
    static final String FILLER =
            "the grass grows green . the sky glows blue . the sun turns yellow . here we go . there and back again .";

    public static final int MAX_KEY = 50_000;

    public PasskeyPrompt {
        dependencies = List.copyOf(dependencies);
    }

    /** Tokens that are not filler in a prompt whose key has {@code digits} digits. */
    static int fixedTokens(int digits) {
        return statement(digits).split(" ").length + question().split(" ").length + digits;
    }

    /** The shortest prompt that still holds a 5-digit key. */
    public static int minimumLength() {
        return fixedTokens(5);
    }

    /**
     * Builds the prompt.
     *
     * @param depth where the key statement sits in the filler: 0 = at the very start, 1 = just before the question
     */
    public static PasskeyPrompt build(int length, double depth, int key) {
        if (key < 1 || key > MAX_KEY) {
            throw new IllegalArgumentException("pass key must be in 1.." + MAX_KEY + ", got " + key);
        }
        if (!(depth >= 0 && depth <= 1)) {
            throw new IllegalArgumentException("depth must be in [0, 1], got " + depth);
        }
        String digits = spaced(key);
        int n = Integer.toString(key).length();
        int filler = length - fixedTokens(n);
        if (filler < 0) {
            throw new IllegalArgumentException(
                    "a passkey prompt needs at least " + fixedTokens(n) + " tokens, got length " + length);
        }
        int prefix = (int) Math.round(depth * filler);
        int[] cycle = DemoVocabulary.get().encode(FILLER);
        var buffer = new TokenBuffer();
        int phase = 0;
        for (int i = 0; i < prefix; i++) {
            buffer.token(cycle[phase++ % cycle.length]);
        }
        int statementStart = buffer.words("the pass key is");
        int keyStart = buffer.words(digits);
        buffer.words(". remember it .");
        for (int i = prefix; i < filler; i++) {
            buffer.token(cycle[phase++ % cycle.length]);
        }
        buffer.words(question());
        int answerStart = buffer.words(digits);
        int[] answers = new int[n];
        var dependencies = new ArrayList<Dependency>();
        for (int i = 0; i < n; i++) {
            answers[i] = answerStart + i;
            dependencies.add(new Dependency(answerStart + i, keyStart + i));
        }
        int[] tokens = buffer.toArray();
        if (tokens.length != length) {
            throw new IllegalStateException("passkey prompt has " + tokens.length + " tokens, wanted " + length);
        }
        return new PasskeyPrompt(tokens, statementStart, answers, key, dependencies);
    }

    private static String statement(int digits) {
        String key = String.join(" ", java.util.Collections.nCopies(digits, "0"));
        return "the pass key is " + key + " . remember it .";
    }

    private static String question() {
        return "what was the pass key ? the pass key is";
    }

    private static String spaced(int key) {
        return String.join(" ", Integer.toString(key).split(""));
    }

    /** As a generated document, so passkey prompts can be mixed into training data. */
    public Document asDocument() {
        return new Document(Document.Kind.PASSKEY, tokens, dependencies);
    }

    /** Distance from the last question token back to the key statement. */
    public int distance() {
        return answerPositions[0] - statementStart;
    }
}

package dev.longlora.trainer.eval;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * LongLoRA's passkey-retrieval prompt (longlora-method.md section 5): a task line, the filler text repeated, the key
 * line at a chosen depth inside the filler, and the question; the model must continue with the key. The filler is
 * repeated in whole groups, as many as fit the requested length in the model's tokens.
 */
public final class PasskeyPrompts {
    public static final String TASK = "There is an important info hidden inside a lot of irrelevant text. Find it and "
            + "memorize them. I will quiz you about the important information there.";
    public static final String FILLER =
            "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
    public static final String QUESTION = "What is the pass key? The pass key is";
    public static final int MAX_KEY = 50_000;

    private PasskeyPrompts() {}

    public static String keyLine(int key) {
        return "The pass key is " + key + ". Remember it. " + key + " is the pass key.";
    }

    /** The prompt text with {@code before} filler groups ahead of the key line and {@code after} behind it. */
    public static String text(int key, int before, int after) {
        List<String> lines = new ArrayList<>();
        lines.add(TASK);
        lines.add(String.join(" ", Collections.nCopies(before, FILLER)));
        lines.add(keyLine(key));
        lines.add(String.join(" ", Collections.nCopies(after, FILLER)));
        lines.add(QUESTION);
        return String.join("\n", lines);
    }

    /**
     * The longest prompt of at most {@code length} tokens (BOS included) with the key line at {@code depth} of the
     * filler; fails naming the length when not even a prompt without filler fits.
     */
    public static PasskeyCase build(Tokenizer tokenizer, int length, double depth, int key) {
        if (key < 1 || key > MAX_KEY) throw new ConfigException("pass key must be in 1.." + MAX_KEY + ", got " + key);
        if (!(depth >= 0 && depth <= 1)) throw new ConfigException("depth must be in [0, 1], got " + depth);
        int empty = count(tokenizer, key, 0, depth);
        if (empty > length) {
            throw new ConfigException("a passkey prompt needs at least " + empty + " tokens with this tokenizer; "
                    + "length " + length + " is too short");
        }
        int perGroup = Math.max(1, count(tokenizer, key, 1, depth) - empty);
        int n = Math.max(0, (length - empty) / perGroup);
        while (n > 0 && count(tokenizer, key, n, depth) > length) n--;
        while (count(tokenizer, key, n + 1, depth) <= length) n++;
        int before = (int) Math.round(depth * n);
        return new PasskeyCase(encode(tokenizer, text(key, before, n - before)), key, depth, before, n - before);
    }

    private static int count(Tokenizer tokenizer, int key, int groups, double depth) {
        int before = (int) Math.round(depth * groups);
        return encode(tokenizer, text(key, before, groups - before)).length;
    }

    static int[] encode(Tokenizer tokenizer, String text) {
        int[] body = tokenizer.encode(text);
        if (tokenizer.bos() < 0) return body;
        int[] out = new int[body.length + 1];
        out[0] = tokenizer.bos();
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}

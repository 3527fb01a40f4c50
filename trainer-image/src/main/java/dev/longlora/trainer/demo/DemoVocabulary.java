package dev.longlora.trainer.demo;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's word-level vocabulary. A few dozen whole words instead of bytes: a tiny model then spends its
 * short CPU budget on learning structure (grammar, copying facts and pass keys) rather than on spelling.
 */
public final class DemoVocabulary {
    public static final String EOS = "<eos>";

    static final List<String> DIGITS = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    static final List<String> NAMES = List.of(
            "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar",
            "peggy", "rupert", "sybil", "trent", "ursula", "victor", "walter", "zoe");
    static final List<String> VERBS = List.of("sees", "likes", "finds", "keeps", "hides", "moves");
    static final List<String> ADJECTIVES = List.of("red", "small", "old", "new", "big", "dark");
    static final List<String> NOUNS = List.of("apple", "book", "cat", "dog", "hat", "lamp", "box", "cup");
    /** The words of the passkey test's filler and template (longlora-method.md section 5). */
    static final List<String> PASSKEY_WORDS = List.of(
            "the",
            "pass",
            "key",
            "is",
            "remember",
            "it",
            "what",
            "was",
            "grass",
            "grows",
            "sky",
            "glows",
            "sun",
            "turns",
            "green",
            "blue",
            "yellow",
            "here",
            "we",
            "go",
            "there",
            "and",
            "back",
            "again");

    static final List<String> PUNCTUATION = List.of(".", "?");

    private static final DemoVocabulary INSTANCE = new DemoVocabulary();

    private final List<String> words;
    private final Map<String, Integer> ids = new HashMap<>();

    private DemoVocabulary() {
        var all = new java.util.ArrayList<String>();
        all.add(EOS);
        all.addAll(PUNCTUATION);
        all.addAll(DIGITS);
        all.addAll(PASSKEY_WORDS);
        all.addAll(NAMES);
        all.addAll(VERBS);
        all.addAll(ADJECTIVES);
        all.addAll(NOUNS);
        words = List.copyOf(all);
        for (int i = 0; i < words.size(); i++) {
            if (ids.put(words.get(i), i) != null) {
                throw new IllegalStateException("duplicate demo word: " + words.get(i));
            }
        }
    }

    public static DemoVocabulary get() {
        return INSTANCE;
    }

    public int size() {
        return words.size();
    }

    public int id(String word) {
        Integer id = ids.get(word);
        if (id == null) {
            throw new IllegalArgumentException("'" + word + "' is not a word of the demo vocabulary");
        }
        return id;
    }

    public String word(int id) {
        return words.get(id);
    }

    public int eos() {
        return 0;
    }

    public boolean isDigit(int id) {
        String w = words.get(id);
        return w.length() == 1 && Character.isDigit(w.charAt(0));
    }

    /** Token ids of a text whose words are separated by single spaces. */
    public int[] encode(String text) {
        String[] parts = text.trim().split(" +");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = id(parts[i]);
        }
        return out;
    }

    public String decode(int[] tokens, int from, int to) {
        var sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (i > from) {
                sb.append(' ');
            }
            sb.append(words.get(tokens[i]));
        }
        return sb.toString();
    }

    public String decode(int[] tokens) {
        return decode(tokens, 0, tokens.length);
    }
}

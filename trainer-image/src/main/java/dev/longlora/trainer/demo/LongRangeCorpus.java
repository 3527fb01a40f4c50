package dev.longlora.trainer.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo's corpus, generated deterministically from a seed. Three kinds of document:
 * <ul>
 *   <li>records: simple grammar sentences ("the cat sees the old lamp .") into which people are bound to 3-digit codes
 *   ("alice 4 7 1 .") and recalled once, a random number of tokens later (up to {@code maxLag}). A recalled code can
 *   only be predicted by looking back at its binding, so when lags exceed the context the model sees, more context
 *   really helps. The process is stationary: any window of a long document looks alike, as in a book. Names appear
 *   nowhere else, so the name right before a code is the cue to look for (one induction step).</li>
 *   <li>passkey prompts ({@link PasskeyPrompt}) at a random depth, so the retrieval skill exists before extension.</li>
 *   <li>repeats: a random run of tokens repeated to the end, the plainest lesson in looking back and copying.</li>
 * </ul>
 * Training sequences pack documents of random lengths separated by end-of-text, so that nothing (a question, a
 * binding) is tied to an absolute position. The grammar gives local structure that position interpolation disturbs
 * until the model is fine-tuned.
 */
public final class LongRangeCorpus {
    static final int CODE_DIGITS = 3;
    /** Tokens of one "NAME d d d ." binding or recall. */
    static final int BINDING_TOKENS = 2 + CODE_DIGITS;
    /** Shortest gap between a binding and its recall. */
    static final int MIN_LAG = 8;
    /** Chance that a sentence slot of a records document opens a new binding. */
    static final double BINDING_RATE = 0.25;
    /** Shortest document packed into a training sequence. */
    static final int MIN_DOCUMENT = 48;

    private final SplittableRandom random;
    private final double passkeyFraction;
    private final double repeatFraction;
    private final int maxLag;
    private final DemoVocabulary vocabulary = DemoVocabulary.get();

    /**
     * @param passkeyFraction share of passkey prompts among documents
     * @param repeatFraction  share of repeated runs among documents (the rest are records)
     * @param maxLag          longest distance from a binding to its recall
     */
    public LongRangeCorpus(long seed, double passkeyFraction, double repeatFraction, int maxLag) {
        if (!(passkeyFraction >= 0 && repeatFraction >= 0 && passkeyFraction + repeatFraction <= 1)) {
            throw new IllegalArgumentException(
                    "passkeyFraction and repeatFraction must be >= 0 and add up to at most 1, got " + passkeyFraction
                            + " and " + repeatFraction);
        }
        if (maxLag < MIN_LAG) {
            throw new IllegalArgumentException("maxLag must be at least " + MIN_LAG + ", got " + maxLag);
        }
        this.random = new SplittableRandom(seed);
        this.passkeyFraction = passkeyFraction;
        this.repeatFraction = repeatFraction;
        this.maxLag = maxLag;
    }

    /**
     * One training sequence of exactly {@code length} tokens: documents of random lengths (at least
     * {@value #MIN_DOCUMENT} tokens, at most the whole sequence) from the mix, each followed by end-of-text.
     */
    public Document sequence(int length) {
        if (length < MIN_DOCUMENT + 1) {
            throw new IllegalArgumentException(
                    "a training sequence needs at least " + (MIN_DOCUMENT + 1) + " tokens, got " + length);
        }
        int[] tokens = new int[length];
        var dependencies = new ArrayList<Dependency>();
        int at = 0;
        while (at < length) {
            int left = length - at;
            int size = left - 1 < 2 * MIN_DOCUMENT ? left - 1 : MIN_DOCUMENT + random.nextInt(left - MIN_DOCUMENT);
            if (size < MIN_DOCUMENT) {
                Arrays.fill(tokens, at, length, vocabulary.eos());
                break;
            }
            Document doc = next(size);
            System.arraycopy(doc.tokens(), 0, tokens, at, size);
            for (Dependency d : doc.dependencies()) {
                dependencies.add(new Dependency(d.answerPosition() + at, d.sourcePosition() + at));
            }
            tokens[at + size] = vocabulary.eos();
            at += size + 1;
        }
        return new Document(Document.Kind.PACKED, tokens, dependencies);
    }

    /** {@code count} training sequences, as rows of a batch. */
    public int[][] batch(int count, int length) {
        int[][] rows = new int[count][];
        for (int i = 0; i < count; i++) {
            rows[i] = sequence(length).tokens();
        }
        return rows;
    }

    /** The next document of the mix, exactly {@code length} tokens long. */
    public Document next(int length) {
        double u = random.nextDouble();
        if (length >= PasskeyPrompt.minimumLength() && u < passkeyFraction) {
            return passkeyDocument(length);
        }
        if (u < passkeyFraction + repeatFraction) {
            return repeatsDocument(length);
        }
        return recordsDocument(length);
    }

    public Document passkeyDocument(int length) {
        return PasskeyPrompt.build(length, random.nextDouble(), 1 + random.nextInt(PasskeyPrompt.MAX_KEY))
                .asDocument();
    }

    /** A random run of names, digits and nouns (8 to 8 + length/4 tokens), repeated until the document is full. */
    public Document repeatsDocument(int length) {
        int period = Math.min(length - 1, 8 + random.nextInt(Math.max(1, length / 4)));
        List<String> pool = new ArrayList<>(DemoVocabulary.NAMES);
        pool.addAll(DemoVocabulary.DIGITS);
        pool.addAll(DemoVocabulary.NOUNS);
        int[] tokens = new int[length];
        var dependencies = new ArrayList<Dependency>();
        for (int i = 0; i < length; i++) {
            if (i < period) {
                tokens[i] = vocabulary.id(pick(pool));
            } else {
                tokens[i] = tokens[i - period];
                dependencies.add(new Dependency(i, i - period));
            }
        }
        return new Document(Document.Kind.REPEATS, tokens, dependencies);
    }

    /** A records document of exactly {@code length} tokens (see the class comment). */
    public Document recordsDocument(int length) {
        var buffer = new TokenBuffer();
        var dependencies = new ArrayList<Dependency>();
        List<String> free = new ArrayList<>(DemoVocabulary.NAMES);
        List<Binding> open = new ArrayList<>();
        while (buffer.size() < length) {
            int at = buffer.size();
            Binding due = null;
            for (Binding b : open) {
                if (b.recallAt <= at && (due == null || b.recallAt < due.recallAt)) {
                    due = b;
                }
            }
            if (due != null && at + BINDING_TOKENS <= length) {
                open.remove(due);
                free.add(due.name);
                int[] digits = write(buffer, due.name, due.code);
                for (int d = 0; d < CODE_DIGITS; d++) {
                    dependencies.add(new Dependency(digits[d], due.digitPositions[d]));
                }
                continue;
            }
            int lagRoom = Math.min(maxLag, length - at - 2 * BINDING_TOKENS);
            if (!free.isEmpty() && lagRoom >= MIN_LAG && random.nextDouble() < BINDING_RATE) {
                String name = free.remove(random.nextInt(free.size()));
                int[] code = new int[CODE_DIGITS];
                for (int d = 0; d < CODE_DIGITS; d++) {
                    code[d] = random.nextInt(10);
                }
                int[] digits = write(buffer, name, code);
                int lag = MIN_LAG + random.nextInt(lagRoom - MIN_LAG + 1);
                open.add(new Binding(name, code, digits, digits[0] + lag));
                continue;
            }
            int[] sentence = vocabulary.encode(sentence());
            for (int i = 0; i < sentence.length && buffer.size() < length; i++) {
                buffer.token(sentence[i]);
            }
        }
        int[] tokens = buffer.toArray();
        if (tokens.length != length) {
            throw new IllegalStateException("records document has " + tokens.length + " tokens, wanted " + length);
        }
        return new Document(Document.Kind.RECORDS, tokens, dependencies);
    }

    private record Binding(String name, int[] code, int[] digitPositions, int recallAt) {}

    /** Writes "NAME d d d ." and returns the positions of the digits. */
    private int[] write(TokenBuffer buffer, String name, int[] code) {
        buffer.words(name);
        int[] positions = new int[CODE_DIGITS];
        for (int d = 0; d < CODE_DIGITS; d++) {
            positions[d] = buffer.token(vocabulary.id(DemoVocabulary.DIGITS.get(code[d])));
        }
        buffer.words(".");
        return positions;
    }

    private String sentence() {
        return switch (random.nextInt(4)) {
            case 0 ->
                "the " + pick(DemoVocabulary.NOUNS) + " " + pick(DemoVocabulary.VERBS) + " the "
                        + pick(DemoVocabulary.NOUNS) + " .";
            case 1 ->
                "the " + pick(DemoVocabulary.NOUNS) + " " + pick(DemoVocabulary.VERBS) + " the "
                        + pick(DemoVocabulary.ADJECTIVES) + " " + pick(DemoVocabulary.NOUNS) + " .";
            case 2 ->
                "the " + pick(DemoVocabulary.ADJECTIVES) + " " + pick(DemoVocabulary.NOUNS) + " "
                        + pick(DemoVocabulary.VERBS) + " it .";
            default ->
                "the " + pick(DemoVocabulary.NOUNS) + " and the " + pick(DemoVocabulary.NOUNS) + " "
                        + pick(DemoVocabulary.VERBS) + " the " + pick(DemoVocabulary.NOUNS) + " .";
        };
    }

    private String pick(List<String> words) {
        return words.get(random.nextInt(words.size()));
    }
}

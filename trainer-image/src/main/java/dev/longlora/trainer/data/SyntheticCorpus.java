package dev.longlora.trainer.data;

import dev.longlora.trainer.tokenizer.ByteTokenizer;
import java.util.SplittableRandom;

/**
 * {@code builtin:synthetic}: a deterministic byte-level corpus that needs no download. Each document states a few
 * facts ("the code of alice is 4821."), continues with filler sentences, and asks for every fact again at the end,
 * so predicting the answers needs context from far back. Documents are BOS/EOS-wrapped and joined.
 */
public final class SyntheticCorpus {
    public static final String NAME = "builtin:synthetic";
    private static final String[] NAMES = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
    private static final String[] FILLER = {
        "The grass is green.",
        "The sky is blue.",
        "The sun is yellow.",
        "Here we go.",
        "There and back again.",
        "A cat sleeps.",
        "Rain falls."
    };

    private SyntheticCorpus() {}

    /** About {@code tokens} byte tokens (whole documents, at least one), generated from {@code seed}. */
    public static TokenSource generate(long seed, int tokens) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] buf = new int[Math.max(tokens, 1) + 4096];
        int n = 0;
        while (n < tokens) {
            int[] doc = ByteTokenizer.INSTANCE.encodeDocument(document(rnd));
            if (n + doc.length > buf.length) buf = java.util.Arrays.copyOf(buf, 2 * (n + doc.length));
            System.arraycopy(doc, 0, buf, n, doc.length);
            n += doc.length;
        }
        return TokenSource.of(java.util.Arrays.copyOf(buf, n), NAME + " (seed " + seed + ", " + n + " byte tokens)");
    }

    private static String document(SplittableRandom rnd) {
        int facts = 2 + rnd.nextInt(3);
        StringBuilder sb = new StringBuilder();
        String[] who = new String[facts];
        int[] code = new int[facts];
        for (int i = 0; i < facts; i++) {
            who[i] = NAMES[rnd.nextInt(NAMES.length)] + i;
            code[i] = 1000 + rnd.nextInt(9000);
            sb.append("The code of ")
                    .append(who[i])
                    .append(" is ")
                    .append(code[i])
                    .append(". ");
        }
        for (int i = 0, n = 8 + rnd.nextInt(24); i < n; i++)
            sb.append(FILLER[rnd.nextInt(FILLER.length)]).append(' ');
        for (int i = facts - 1; i >= 0; i--) {
            sb.append("What is the code of ")
                    .append(who[i])
                    .append("? It is ")
                    .append(code[i])
                    .append(". ");
        }
        return sb.toString().strip();
    }
}

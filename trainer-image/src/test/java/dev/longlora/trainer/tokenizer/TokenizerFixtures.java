package dev.longlora.trainer.tokenizer;

import java.nio.file.Path;
import java.util.List;

/** The committed tokenizer.json fixtures (made by src/test/python/make_test_tokenizers.py) and a varied text set. */
public final class TokenizerFixtures {
    public static final Path LLAMA2_STYLE = Path.of("src/test/resources/tokenizers/llama2-style");
    public static final Path LLAMA3_STYLE = Path.of("src/test/resources/tokenizers/llama3-style");

    /** Prose, whitespace runs, digits, code, accents, CJK, RTL, emoji (incl. ZWJ), rare symbols for byte fallback. */
    public static final List<String> TEXTS = List.of(
            "Hello world",
            "The model reads long documents and learns to attend across thousands of tokens.",
            "  leading spaces,   runs   of spaces,\ttabs\t\tand\nnew\n\nlines\r\nCRLF  ",
            "",
            " ",
            "1234567890 3.14159 -42 1e-9 0x7fff 2026-11-26T10:00:00Z 100,000,000",
            "def forward(self, x):\n    return self.proj(x) + x  # residual\n",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
            "Größe und Übung — café, naïve résumé; ñ ø å ß",
            "東京は日本の首都です。長い文脈を学習する。한국어 텍스트도 있습니다.",
            "Привет, мир! مرحبا بالعالم שלום עולם",
            "emoji 🙂🚀 family 👨‍👩‍👧‍👦 flags 🇩🇪🇯🇵 skin 👍🏽 ✓",
            "rare symbols 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ⌬ ⏚ 𓂀 and control \u0001\u001f chars",
            "<s> literal special-looking text </s> <|begin_of_text|> <0x41>",
            "x² + y² = r²; π ≈ 3.14159; ∑_{i=1}^{n} i = n(n+1)/2",
            "SELECT id, name FROM users WHERE age >= 42 ORDER BY name;",
            "A".repeat(300) + " " + "ab".repeat(200),
            "don't won't it's we're they've I'm you'll he'd DON'T");

    /** {@link #TEXTS} plus {@code n} random strings mixing ASCII, whitespace runs, digits, Latin-1, CJK, emoji and combining marks. */
    public static List<String> textsWithRandom(int n, long seed) {
        int[][] ranges = {
            {0x20, 0x7e},
            {0x20, 0x7e},
            {0x20, 0x7e},
            {0x30, 0x39},
            {0xa0, 0xff},
            {0x4e00, 0x4fff},
            {0x1f300, 0x1f64f},
            {0x0300, 0x036f},
            {0x0400, 0x04ff},
            {0x0600, 0x06ff},
            {0x1d400, 0x1d7ff}
        };
        String[] spaces = {" ", "  ", "\t", "\n", "\r\n", "    "};
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        java.util.List<String> out = new java.util.ArrayList<>(TEXTS);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(1, 120);
            for (int k = 0; k < len; k++) {
                if (rnd.nextInt(6) == 0) {
                    sb.append(spaces[rnd.nextInt(spaces.length)]);
                } else {
                    int[] r = ranges[rnd.nextInt(ranges.length)];
                    sb.appendCodePoint(rnd.nextInt(r[0], r[1] + 1));
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    private TokenizerFixtures() {}
}

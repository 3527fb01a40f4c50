package dev.longlora.trainer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.data.CorpusFormat;
import dev.longlora.trainer.data.CorpusTokenizer;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenStreamWriter;
import dev.longlora.trainer.tokenizer.HfTokenizer;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Tokenizer throughput, ours (DJL's binding, the path {@code longlora tokenize} takes: JSONL read, batch encode,
 * BOS/EOS, .bin written) against Python {@code tokenizers} doing the same on the same file
 * ({@code trainer-bench/src/main/python/tokenizer_throughput.py}), interleaved over rounds; checks both wrote identical
 * ids. The default tokenizer is the trainer's LLaMA-3 style test fixture.
 *
 * <pre>bin/bench TokenizerBenchmark [--tokenizer DIR] [--mb 16] [--rounds 3] [--python PATH]</pre>
 * Both sides use the Rust library's thread pool; set RAYON_NUM_THREADS to pin its size (it is passed on).
 */
public final class TokenizerBenchmark {

    public static void main(String[] args) throws Exception {
        Path tokenizerDir = null;
        int mb = 16;
        int rounds = 3;
        String python = System.getenv().getOrDefault("LONGLORA_TOKENIZERS_PYTHON", "python3");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tokenizer" -> tokenizerDir = Path.of(args[++i]);
                case "--mb" -> mb = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--python" -> python = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (tokenizerDir == null) {
            tokenizerDir = RepoFiles.find("trainer-image/src/test/resources/tokenizers/llama3-style");
        }
        Path work = Files.createTempDirectory("tokenizer-bench");
        Path corpus = work.resolve("corpus.jsonl");
        long bytes = writeCorpus(corpus, mb * 1_000_000L, 11);
        System.out.printf(
                Locale.ROOT,
                "corpus: %.1f MB JSONL of varied documents (prose, code, digits, unicode, emoji); "
                        + "tokenizer %s; RAYON_NUM_THREADS=%s; %d cores%n",
                bytes / 1e6,
                tokenizerDir,
                System.getenv().getOrDefault("RAYON_NUM_THREADS", "(all)"),
                Runtime.getRuntime().availableProcessors());

        double bestJavaEncode = 0, bestJavaTotal = 0, bestPyEncode = 0, bestPyTotal = 0;
        boolean identical = true;
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir)) {
            for (int r = 1; r <= rounds; r++) {
                Path javaOut = work.resolve("java.bin");
                TimedTokenizer timed = new TimedTokenizer(tok);
                long t0 = System.nanoTime();
                try (TokenStreamWriter w =
                        new TokenStreamWriter(javaOut, TokenDtype.forVocabulary(tok.vocabSize()), false)) {
                    new CorpusTokenizer(timed, CorpusFormat.JSONL).run(List.of(corpus), w, b -> {});
                    w.commit();
                }
                double javaTotal = (System.nanoTime() - t0) / 1e9;
                double javaEncode = timed.nanos / 1e9;

                Path pyOut = work.resolve("python.bin");
                JsonNode py = runPython(python, tokenizerDir.resolve("tokenizer.json"), corpus, pyOut);
                boolean same = sha256(javaOut).equals(py.get("ids_sha256").asText());
                identical &= same;
                System.out.printf(
                        Locale.ROOT,
                        "round %d: ours encode %.2f s, total %.2f s | python encode %.3f s, total %.2f s | ids identical: %s%n",
                        r,
                        javaEncode,
                        javaTotal,
                        py.get("encode_s").asDouble(),
                        py.get("total_s").asDouble(),
                        same);
                bestJavaEncode = Math.max(bestJavaEncode, bytes / 1e6 / javaEncode);
                bestJavaTotal = Math.max(bestJavaTotal, bytes / 1e6 / javaTotal);
                bestPyEncode =
                        Math.max(bestPyEncode, bytes / 1e6 / py.get("encode_s").asDouble());
                bestPyTotal =
                        Math.max(bestPyTotal, bytes / 1e6 / py.get("total_s").asDouble());
            }
        }
        System.out.println();
        System.out.println(
                "| measure (best of " + rounds + " rounds) | ours MB/s | python tokenizers MB/s | ours / python |");
        System.out.println("|---|---|---|---|");
        System.out.printf(
                Locale.ROOT,
                "| batch encode only | %.1f | %.1f | %.2fx |%n",
                bestJavaEncode,
                bestPyEncode,
                bestJavaEncode / bestPyEncode);
        System.out.printf(
                Locale.ROOT,
                "| JSONL -> .bin end to end | %.1f | %.1f | %.2fx |%n",
                bestJavaTotal,
                bestPyTotal,
                bestJavaTotal / bestPyTotal);
        System.out.println("output ids identical in every round: " + identical);
        try (var files = Files.list(work)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(work);
        if (!identical) System.exit(1);
    }

    /** Counts the time spent inside the tokenizer. */
    private static final class TimedTokenizer implements Tokenizer {
        private final Tokenizer inner;
        long nanos;

        TimedTokenizer(Tokenizer inner) {
            this.inner = inner;
        }

        @Override
        public List<int[]> encodeAll(List<String> texts) {
            long t = System.nanoTime();
            List<int[]> out = inner.encodeAll(texts);
            nanos += System.nanoTime() - t;
            return out;
        }

        @Override
        public int[] encode(String text) {
            return encodeAll(List.of(text)).getFirst();
        }

        @Override
        public String decode(int[] ids) {
            return inner.decode(ids);
        }

        @Override
        public int bos() {
            return inner.bos();
        }

        @Override
        public int eos() {
            return inner.eos();
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }
    }

    /** Deterministic varied documents of 200-8000 characters until {@code targetBytes}. */
    static long writeCorpus(Path file, long targetBytes, long seed) throws IOException {
        String[] words =
                ("the model reads long documents and learns to attend across thousands of tokens while a small "
                                + "adapter trains shifted sparse attention groups position interpolation rotary embeddings data")
                        .split(" ");
        String[] pieces = {
            "def forward(self, x):\n    return self.proj(x) + x\n",
            "for (int i = 0; i < n; i++) { s += a[i]; }\n",
            "Größe und Übung — café, naïve résumé. ",
            "東京は日本の首都です。長い文脈を学習する。",
            "Привет, мир! ",
            "emoji 🙂🚀 and ✓ ",
            "x² + y² = r²; π ≈ 3.14159 ",
            "    indented   with   runs\t\tof whitespace\n"
        };
        ObjectMapper json = new ObjectMapper();
        SplittableRandom rnd = new SplittableRandom(seed);
        long written = 0;
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            while (written < targetBytes) {
                StringBuilder doc = new StringBuilder();
                int len = rnd.nextInt(200, 8000);
                while (doc.length() < len) {
                    double k = rnd.nextDouble();
                    if (k < 0.7) doc.append(words[rnd.nextInt(words.length)]).append(' ');
                    else if (k < 0.85) doc.append(pieces[rnd.nextInt(pieces.length)]);
                    else doc.append(rnd.nextInt(1_000_000)).append(rnd.nextBoolean() ? ". " : ", ");
                }
                String line = "{\"text\": " + json.writeValueAsString(doc.toString()) + "}\n";
                w.write(line);
                written += line.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return written;
    }

    private static JsonNode runPython(String python, Path tokenizerJson, Path corpus, Path out) throws Exception {
        Path script = RepoFiles.pythonPeer("tokenizer_throughput.py");
        Process p = new ProcessBuilder(
                        python,
                        script.toString(),
                        tokenizerJson.toString(),
                        corpus.toString(),
                        out.toString(),
                        String.valueOf(1 << 20))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("python peer failed: " + stdout);
        return new ObjectMapper().readTree(stdout);
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}

package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.tokenizer.ByteTokenizer;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * Opens the token source a job or command names: a .bin token file (with its label mask, if any), a text, JSONL
 * or LongAlpaca corpus through a tokenizer, or {@code builtin:synthetic}.
 */
public final class TokenSources {
    /** Size of the built-in corpus: enough windows for the tiny CPU jobs and tests. */
    public static final int SYNTHETIC_TOKENS = 1 << 18;

    private TokenSources() {}

    /** As {@link #open(String, String, TokenDtype, long, Supplier)} with the byte-level tokenizer for text. */
    public static TokenSource open(String path, String format, TokenDtype dtype, long seed) {
        return open(path, format, dtype, seed, () -> ByteTokenizer.INSTANCE);
    }

    /**
     * @param format    bin, text, jsonl or alpaca (ignored for builtin sources)
     * @param seed      seed of generated corpora
     * @param tokenizer the model's tokenizer (e.g. {@code () -> Tokenizers.forModel(modelPath)}), asked for only when
     *                  a text format needs it, so token files train without any tokenizer
     */
    public static TokenSource open(
            String path, String format, TokenDtype dtype, long seed, Supplier<Tokenizer> tokenizer) {
        if (path.startsWith("builtin:")) {
            if (path.equals(SyntheticCorpus.NAME)) return SyntheticCorpus.generate(seed, SYNTHETIC_TOKENS);
            throw new ConfigException("unknown built-in corpus '" + path + "': use " + SyntheticCorpus.NAME);
        }
        return switch (format) {
            case "bin" -> LabelMask.apply(Path.of(path), MappedTokenFile.open(Path.of(path), dtype));
            case "text", "jsonl", "alpaca" -> tokenized(Path.of(path), CorpusFormat.parse(format), tokenizer.get());
            default ->
                throw new ConfigException(
                        "data format '" + format + "' is not supported: use bin, text, jsonl or alpaca");
        };
    }

    /**
     * Tokenizes a corpus, streaming, into a temporary .bin (deleted at exit) and maps it, so corpora larger than
     * memory work; for very large corpora prepare the .bin once with {@code longlora tokenize} instead.
     */
    public static TokenSource tokenized(Path file, CorpusFormat format, Tokenizer tokenizer) {
        if (!Files.isRegularFile(file)) throw new FormatException(file, format.userName() + " corpus not found");
        try {
            Path dir = Files.createTempDirectory("longlora-tokens");
            dir.toFile().deleteOnExit();
            Path bin = dir.resolve("corpus.bin");
            TokenDtype dtype = TokenDtype.forVocabulary(tokenizer.vocabSize());
            boolean masked = format == CorpusFormat.ALPACA;
            try (TokenStreamWriter out = new TokenStreamWriter(bin, dtype, masked)) {
                new CorpusTokenizer(tokenizer, format).run(List.of(file), out, bytes -> {});
                out.commit();
            }
            bin.toFile().deleteOnExit();
            if (masked) LabelMask.fileFor(bin).toFile().deleteOnExit();
            MappedTokenFile mapped = MappedTokenFile.open(bin, dtype);
            TokenSource source = LabelMask.apply(bin, mapped);
            return new Described(source, file + " (" + format.userName() + ", " + source.length() + " tokens)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tokenize " + file + ": " + e.getMessage(), e);
        }
    }

    /** A source under the name of the corpus it was made from. */
    private record Described(TokenSource source, String description) implements TokenSource {
        @Override
        public long length() {
            return source.length();
        }

        @Override
        public int[] slice(long start, int count) {
            return source.slice(start, count);
        }

        @Override
        public int[] labels(long start, int[] inputs) {
            return source.labels(start, inputs);
        }

        @Override
        public void close() {
            source.close();
        }
    }
}

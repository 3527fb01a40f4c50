package dev.longlora.trainer.data;

import java.nio.file.Path;

/** Opens the token source a job or command names: a .bin token file, a text file, or {@code builtin:synthetic}. */
public final class TokenSources {
    /** Size of the built-in corpus: enough windows for the tiny CPU jobs and tests. */
    public static final int SYNTHETIC_TOKENS = 1 << 18;

    private TokenSources() {
    }

    /**
     * @param format bin or text (ignored for builtin sources)
     * @param seed   seed of generated corpora
     */
    public static TokenSource open(String path, String format, TokenDtype dtype, long seed) {
        if (path.startsWith("builtin:")) {
            if (path.equals(SyntheticCorpus.NAME)) return SyntheticCorpus.generate(seed, SYNTHETIC_TOKENS);
            throw new IllegalArgumentException("unknown built-in corpus '" + path + "': use " + SyntheticCorpus.NAME);
        }
        return switch (format) {
            case "bin" -> MappedTokenFile.open(Path.of(path), dtype);
            case "text" -> TextCorpus.open(Path.of(path));
            default -> throw new IllegalArgumentException("data format '" + format + "' is not supported: use bin or text");
        };
    }
}

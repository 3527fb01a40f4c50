package dev.longlora.trainer.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An HF {@code tokenizer.json} tokenizer (LLaMA-2's BPE with byte fallback, LLaMA-3's byte-level BPE, ...) run by
 * DJL's binding of the Rust {@code tokenizers} library, so ids equal those of Python {@code tokenizers}. The native
 * library comes from inside the jar (extracted once to DJL's cache: {@code DJL_CACHE_DIR}, else {@code ~/.djl.ai} if
 * writable, else {@code $TMPDIR/longlora-djl});
 * DJL's offline mode and tracking opt-out are set before it loads, so nothing is ever fetched or sent.
 *
 * <p>{@link #encode} adds no special tokens and never truncates; BOS/EOS are added per document by
 * {@link Tokenizer#encodeDocument}, as LLaMA's tokenizer adds BOS at the start of every sequence.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    static {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        useWritableCacheDir();
    }

    /** Containers often run with a read-only home: then the native library is extracted under the temp dir. */
    private static void useWritableCacheDir() {
        if (System.getenv("DJL_CACHE_DIR") != null
                || System.getProperty("DJL_CACHE_DIR") != null
                || System.getenv("ENGINE_CACHE_DIR") != null
                || System.getProperty("ENGINE_CACHE_DIR") != null) {
            return;
        }
        Path home = Path.of(System.getProperty("user.home", "/"), ".djl.ai");
        try {
            Files.createDirectories(home);
            if (Files.isWritable(home)) return;
        } catch (IOException | SecurityException ignored) {
            // fall through to the temp dir
        }
        System.setProperty(
                "DJL_CACHE_DIR",
                Path.of(System.getProperty("java.io.tmpdir"), "longlora-djl").toString());
    }

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerSpec spec;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, TokenizerSpec spec) {
        this.tokenizer = tokenizer;
        this.spec = spec;
    }

    /** Loads {@code tokenizer.json}, given as the file or the directory holding it (a model directory). */
    public static HfTokenizer load(Path fileOrDir) {
        Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve("tokenizer.json") : fileOrDir;
        if (!Files.isRegularFile(file)) {
            throw new FormatException(
                    file,
                    "tokenizer not found: give a tokenizer.json file or a model directory "
                            + "that has one (or pre-tokenize the data with `longlora tokenize` and use data.format bin)");
        }
        TokenizerSpec spec = TokenizerSpec.read(file);
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new HfTokenizer(t, spec);
        } catch (IOException | RuntimeException e) {
            throw new FormatException(file, "cannot load tokenizer: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException(
                    "cannot load the tokenizers native library (" + e.getMessage()
                            + "); DJL extracts it into DJL_CACHE_DIR (default ~/.djl.ai), which must be writable",
                    e);
        }
    }

    public TokenizerSpec spec() {
        return spec;
    }

    // Ids are read straight from the native encodings: DJL's Encoding objects would also copy every token string
    // and character span across JNI, which costs more than the encoding itself.

    @Override
    public int[] encode(String text) {
        long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, false);
        try {
            return toInts(TokenizersLibrary.LIB.getTokenIds(encoding));
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    /** Encodes many texts at once: the native library spreads a batch over its threads. */
    @Override
    public List<int[]> encodeAll(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        long[] encodings =
                TokenizersLibrary.LIB.batchEncode(tokenizer.getHandle(), texts.toArray(String[]::new), false);
        List<int[]> out = new ArrayList<>(encodings.length);
        try {
            for (long e : encodings) out.add(toInts(TokenizersLibrary.LIB.getTokenIds(e)));
        } finally {
            for (long e : encodings) TokenizersLibrary.LIB.deleteEncoding(e);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    @Override
    public int bos() {
        return spec.bos();
    }

    @Override
    public int eos() {
        return spec.eos();
    }

    @Override
    public int vocabSize() {
        return spec.vocabSize();
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }
}

package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Which tokens of a .bin file are trained: {@code FILE.bin.mask} holds one byte per token, 1 = trained, 0 = label
 * -100 (SFT prompts). A token file with a mask beside it is read as a {@link TokenSource} whose labels apply it.
 */
public final class LabelMask implements TokenSource {
    private final TokenSource tokens;
    private final Path file;
    private final Arena arena;
    private final MemorySegment mask;

    private LabelMask(TokenSource tokens, Path file, Arena arena, MemorySegment mask) {
        this.tokens = tokens;
        this.file = file;
        this.arena = arena;
        this.mask = mask;
    }

    public static Path fileFor(Path tokenFile) {
        return tokenFile.resolveSibling(tokenFile.getFileName() + ".mask");
    }

    /** {@code tokens} as is when it has no mask file, else masked by it (whose length must match). */
    public static TokenSource apply(Path tokenFile, TokenSource tokens) {
        Path file = fileFor(tokenFile);
        if (!Files.isRegularFile(file)) return tokens;
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != tokens.length()) {
                throw new FormatException(
                        file,
                        "has " + ch.size() + " entries but " + tokenFile + " has " + tokens.length()
                                + " tokens; re-create both with `longlora tokenize`");
            }
            MemorySegment seg =
                    ch.size() == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new LabelMask(tokens, file, arena, seg);
        } catch (IOException e) {
            arena.close();
            throw new FormatException(file, "cannot read label mask: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public long length() {
        return tokens.length();
    }

    @Override
    public int[] slice(long start, int count) {
        return tokens.slice(start, count);
    }

    @Override
    public int[] labels(long start, int[] inputs) {
        int[] labels = inputs.clone();
        for (int i = 0; i < labels.length; i++) {
            if (mask.get(ValueLayout.JAVA_BYTE, start + i) == 0) labels[i] = IGNORE;
        }
        return labels;
    }

    @Override
    public String description() {
        return tokens.description() + " with label mask " + file.getFileName();
    }

    @Override
    public void close() {
        try {
            tokens.close();
        } finally {
            arena.close();
        }
    }
}

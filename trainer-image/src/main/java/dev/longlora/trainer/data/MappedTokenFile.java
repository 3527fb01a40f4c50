package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw little-endian token file (uint16 or uint32 ids), memory-mapped so a corpus larger than memory works.
 * Its length must be a whole number of tokens.
 */
public final class MappedTokenFile implements TokenSource {

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final TokenDtype dtype;
    private final Arena arena;
    private final MemorySegment data;
    private final long length;

    private MappedTokenFile(Path file, TokenDtype dtype, Arena arena, MemorySegment data, long length) {
        this.file = file;
        this.dtype = dtype;
        this.arena = arena;
        this.data = data;
        this.length = length;
    }

    public static MappedTokenFile open(Path file, TokenDtype dtype) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size % dtype.byteSize() != 0) {
                throw new FormatException(
                        file,
                        "size " + size + " bytes is not a whole number of " + dtype.userName()
                                + " tokens; is the token dtype right (--token-dtype uint16|uint32)?");
            }
            MemorySegment seg = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedTokenFile(file, dtype, arena, seg, size / dtype.byteSize());
        } catch (NoSuchFileException e) {
            arena.close();
            throw new FormatException(file, "token file not found");
        } catch (IOException e) {
            arena.close();
            throw new FormatException(file, "cannot read token file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int[] slice(long start, int count) {
        if (start < 0 || count < 0 || start + count > length) {
            throw new IndexOutOfBoundsException(
                    "tokens [" + start + ", " + (start + count) + ") of " + length + " in " + file);
        }
        int[] out = new int[count];
        if (dtype == TokenDtype.UINT16) {
            for (int i = 0; i < count; i++) out[i] = data.getAtIndex(U16, start + i) & 0xffff;
        } else {
            for (int i = 0; i < count; i++) {
                int v = data.getAtIndex(U32, start + i);
                if (v < 0) {
                    throw new FormatException(
                            file,
                            "token at position " + (start + i) + " is " + Integer.toUnsignedString(v)
                                    + ", beyond any vocabulary");
                }
                out[i] = v;
            }
        }
        return out;
    }

    @Override
    public String description() {
        return file + " (" + dtype.userName() + ", " + length + " tokens)";
    }

    @Override
    public void close() {
        arena.close();
    }
}

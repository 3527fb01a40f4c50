package dev.longlora.trainer.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file: the header is parsed and validated on open, the data section is memory-mapped
 * (FFM), and tensors are converted to fp32 on demand, so a large file is never held twice in memory.
 * Close it to unmap.
 */
public final class SafetensorsReader implements AutoCloseable {

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final SafetensorsHeader header;
    private final Arena arena;
    private final MemorySegment data;

    private SafetensorsReader(Path file, SafetensorsHeader header, Arena arena, MemorySegment data) {
        this.file = file;
        this.header = header;
        this.arena = arena;
        this.data = data;
    }

    public static SafetensorsReader open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(
                        file, "not a safetensors file: " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > SafetensorsHeader.MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new FormatException(
                        file,
                        "not a safetensors file or truncated: header length " + headerLen
                                + " does not fit the file size " + size);
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            long dataStart = 8 + headerLen;
            long dataLength = size - dataStart;
            SafetensorsHeader header = SafetensorsHeader.parse(file, headerBuf.array(), dataLength);
            MemorySegment data = dataLength == 0
                    ? MemorySegment.NULL
                    : ch.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLength, arena);
            return new SafetensorsReader(file, header, arena, data);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new FormatException(file, "file not found");
        } catch (IOException e) {
            arena.close();
            throw new FormatException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path file() {
        return file;
    }

    public Set<String> names() {
        return header.tensors().keySet();
    }

    public Map<String, String> metadata() {
        return header.metadata();
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    public TensorEntry entry(String name) {
        TensorEntry e = header.tensors().get(name);
        if (e == null) throw new FormatException(file, "tensor '" + name + "' is missing");
        return e;
    }

    /** Reads a tensor as fp32, whatever its stored dtype. */
    public TensorData read(String name) {
        TensorEntry e = entry(name);
        long n = e.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new FormatException(
                    file, "tensor '" + name + "' has " + n + " elements, more than one Java array holds");
        }
        float[] out = new float[(int) n];
        MemorySegment src = data.asSlice(e.begin(), e.byteLength());
        switch (e.dtype()) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, out, 0, out.length);
            case BF16, F16 -> {
                // Bulk-copy the 16-bit words, then widen; chunked so a huge tensor needs no second full-size array.
                short[] words = new short[Math.min(out.length, 1 << 20)];
                for (int off = 0; off < out.length; off += words.length) {
                    int count = Math.min(words.length, out.length - off);
                    MemorySegment.copy(src, I16_LE, (long) off * 2, words, 0, count);
                    if (e.dtype() == SafetensorsDtype.BF16) {
                        for (int i = 0; i < count; i++) out[off + i] = Float.intBitsToFloat((words[i] & 0xffff) << 16);
                    } else {
                        for (int i = 0; i < count; i++) out[off + i] = Float.float16ToFloat(words[i]);
                    }
                }
            }
        }
        // The fp32 copy is what the caller keeps: drop the mapped pages from this process (they stay in the page
        // cache), so reading a whole checkpoint never holds the file and the model in memory at once.
        if (src.isMapped() && src.byteSize() > 0) src.unload();
        return new TensorData(e.intShape(), out);
    }

    /** Reads a tensor and checks its shape, naming the file and tensor when it differs. */
    public TensorData read(String name, int... expectedShape) {
        TensorEntry e = entry(name);
        if (!java.util.Arrays.equals(e.intShapeOrNull(), expectedShape)) {
            throw new FormatException(
                    file,
                    "tensor '" + name + "' has shape " + java.util.Arrays.toString(e.shape())
                            + " but the model config needs " + java.util.Arrays.toString(expectedShape));
        }
        return read(name);
    }

    @Override
    public void close() {
        arena.close();
    }
}

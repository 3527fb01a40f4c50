package dev.longlora.trainer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file from fp32 host tensors, stored as F32 or BF16 (round to nearest even).
 * The header is padded with spaces so the data section starts 8-byte aligned, as the reference writer does.
 * With {@code fsync} the bytes are forced to the device before returning (checkpoints need that).
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {}

    public static void write(
            Path file,
            Map<String, TensorData> tensors,
            Map<String, String> metadata,
            SafetensorsDtype dtype,
            boolean fsync) {
        if (dtype == SafetensorsDtype.F16) {
            // Not needed by any output of this trainer; reading F16 is supported.
            throw new IllegalArgumentException("writing F16 is not supported; use F32 or BF16");
        }
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put(SafetensorsHeader.METADATA_KEY, metadata);
        List<String> names = new ArrayList<>(tensors.keySet());
        names.sort(null); // deterministic layout, independent of map order
        long offset = 0;
        for (String name : names) {
            if (name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor may not be named " + SafetensorsHeader.METADATA_KEY);
            }
            TensorData t = tensors.get(name);
            long bytes = (long) t.numel() * dtype.byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", dtype.name());
            entry.put("shape", t.shape());
            entry.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(name, entry);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            int perChunk = CHUNK / dtype.byteSize();
            short[] halves = dtype == SafetensorsDtype.BF16 ? new short[perChunk] : null;
            for (String name : names) {
                float[] v = tensors.get(name).values();
                for (int off = 0; off < v.length; off += perChunk) {
                    int n = Math.min(perChunk, v.length - off);
                    buf.clear();
                    if (dtype == SafetensorsDtype.F32) {
                        buf.asFloatBuffer().put(v, off, n); // bulk copy in the buffer's (little-endian) order
                    } else {
                        for (int i = 0; i < n; i++) halves[i] = toBf16(v[off + i]);
                        buf.asShortBuffer().put(halves, 0, n);
                    }
                    buf.limit(n * dtype.byteSize());
                    writeFully(ch, buf);
                }
            }
            if (fsync) ch.force(true);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, SafetensorsDtype.F32, false);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** fp32 -> bf16 with round-to-nearest-even; NaN stays a (quiet) NaN. */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((bits >>> 16) | 0x0040);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}

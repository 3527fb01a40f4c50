package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    private static Map<String, TensorData> sample() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", TensorData.of(new float[] {1f, -2.5f, 3.25f, 0f, 1e-3f, -7f}, 3, 2));
        m.put("model.norm.weight", TensorData.of(new float[] {0.5f, 2f}, 2));
        m.put("scalar", TensorData.of(new float[] {42f}));
        m.put("empty", TensorData.of(new float[0], 0, 4));
        return m;
    }

    @Test
    void f32RoundTripKeepsValuesShapesAndMetadata() {
        Path f = dir.resolve("a.safetensors");
        SafetensorsWriter.write(f, sample(), Map.of("loss", "1.25", "format", "pt"));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(sample().keySet(), r.names());
            for (var e : sample().entrySet()) assertEquals(e.getValue(), r.read(e.getKey()), e.getKey());
            assertEquals("1.25", r.metadata().get("loss"));
            assertEquals("pt", r.metadata().get("format"));
        }
    }

    @Test
    void dataSectionIsEightByteAligned() throws IOException {
        Path f = dir.resolve("a.safetensors");
        SafetensorsWriter.write(f, sample(), Map.of("x", "y"));
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong(0) % 8);
    }

    @Test
    void bf16WriteRoundsToNearestEvenAndReadsBack() {
        Path f = dir.resolve("b.safetensors");
        float[] v = {
            1f,
            1.00390625f /* exactly halfway: rounds to even 1.0 */,
            1.01171875f /* halfway: up */,
            -3.140625f,
            65280f,
            Float.POSITIVE_INFINITY
        };
        SafetensorsWriter.write(f, Map.of("t", TensorData.of(v, 6)), Map.of(), SafetensorsDtype.BF16, true);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(SafetensorsDtype.BF16, r.entry("t").dtype());
            assertArrayEquals(
                    new float[] {1f, 1f, 1.015625f, -3.140625f, 65280f, Float.POSITIVE_INFINITY},
                    r.read("t").values());
        }
    }

    /** A file laid out by hand (as another writer might: unsorted offsets, F16 and BF16) reads correctly. */
    @Test
    void readsHandMadeF16AndBf16File() throws IOException {
        String header = "{\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[0,4]},"
                + "\"__metadata__\":{\"format\":\"pt\"}}";
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3f80).putShort((short) 0xc040); // bf16 1.0, -3.0
        data.putShort((short) 0x3c00).putShort((short) 0xb800); // f16 1.0, -0.5
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, fileBytes(header, data.array()));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(TensorData.of(new float[] {1f, -3f}, 1, 2), r.read("a"));
            assertEquals(TensorData.of(new float[] {1f, -0.5f}, 2), r.read("b"));
            assertEquals(Map.of("format", "pt"), r.metadata());
        }
    }

    @Test
    void shapeCheckNamesFileAndTensor() {
        Path f = dir.resolve("a.safetensors");
        SafetensorsWriter.write(f, sample(), Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            FormatException e = assertThrows(FormatException.class, () -> r.read("model.norm.weight", 3));
            assertTrue(
                    e.getMessage().contains("a.safetensors") && e.getMessage().contains("model.norm.weight"),
                    e.getMessage());
            FormatException missing = assertThrows(FormatException.class, () -> r.read("nope"));
            assertTrue(missing.getMessage().contains("'nope' is missing"), missing.getMessage());
        }
    }

    @Test
    void rejectsInvalidHeadersWithClearMessages() throws IOException {
        assertRejected(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                8,
                "needs 12 bytes but data_offsets span 8");
        assertRejected(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "beyond the data section");
        assertRejected(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8,
                "overlap");
        assertRejected(
                "{\"t\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype I64 is not supported");
        assertRejected("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative");
        assertRejected("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "reversed");
        assertRejected("{\"t\":1}", 0, "entry must be an object");
        assertRejected("[1,2]", 0, "must be a JSON object");
        assertRejected("{\"t\":", 0, "not valid JSON");
        assertRejected("{\"__metadata__\":{\"a\":1}}", 0, "__metadata__.a must be a string");
        assertRejected(
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                4,
                "not valid JSON");
    }

    @Test
    void rejectsTruncatedAndTinyFiles() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(assertThrows(FormatException.class, () -> SafetensorsReader.open(tiny))
                .getMessage()
                .contains("tiny.safetensors"));
        Path huge = dir.resolve("huge.safetensors");
        Files.write(
                huge,
                ByteBuffer.allocate(16)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(1L << 40)
                        .array());
        assertTrue(assertThrows(FormatException.class, () -> SafetensorsReader.open(huge))
                .getMessage()
                .contains("header length"));
        FormatException missing =
                assertThrows(FormatException.class, () -> SafetensorsReader.open(dir.resolve("absent.safetensors")));
        assertTrue(missing.getMessage().contains("absent.safetensors: file not found"), missing.getMessage());
    }

    private void assertRejected(String header, int dataBytes, String expected) throws IOException {
        Path f = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(f, fileBytes(header, new byte[dataBytes]));
        FormatException e = assertThrows(FormatException.class, () -> {
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String n : r.names()) r.read(n);
            }
        });
        assertTrue(
                e.getMessage().contains(expected)
                        && e.getMessage().contains(f.getFileName().toString()),
                "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }

    static byte[] fileBytes(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length)
                .put(h)
                .put(data)
                .array();
    }
}

package dev.longlora.trainer.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random mutations of a valid file (bit flips, byte overwrites, truncation, header length edits, JSON token
 * splices) must either read cleanly or fail with {@link FormatException}; any other exception is a bug.
 */
class SafetensorsFuzzTest {

    private static final String[] SPLICES = {
        "-1",
        "1e309",
        "18446744073709551616",
        "null",
        "\"F64\"",
        "[]",
        "{}",
        "[0,99999999999]",
        "9223372036854775807",
        "\"BF16\"",
        "[2147483648,0]",
        ",",
        "\"\\u0000\"",
        "[[1]]"
    };

    @TempDir
    Path dir;

    @Test
    void mutatedFilesFailOnlyWithFormatException() throws IOException {
        Path valid = dir.resolve("valid.safetensors");
        SafetensorsWriter.write(
                valid,
                Map.of(
                        "a", TensorData.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                        "b", TensorData.of(new float[] {7, 8}, 2),
                        "c", TensorData.of(new float[] {9}, 1, 1)),
                Map.of("k", "v"));
        byte[] original = Files.readAllBytes(valid);
        SplittableRandom rnd = new SplittableRandom(1234);
        int clean = 0;
        int rejected = 0;
        Path f = dir.resolve("mutant.safetensors");
        for (int i = 0; i < 3000; i++) {
            byte[] bytes = mutate(original, rnd);
            Files.write(f, bytes);
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String n : r.names()) r.read(n);
                r.metadata();
                clean++;
            } catch (FormatException expected) {
                assertTrue(expected.getMessage().contains("mutant.safetensors"), expected.getMessage());
                rejected++;
            } catch (Throwable t) {
                fail("mutation " + i + " crashed with " + t + "\nheader: " + header(bytes), t);
            }
        }
        // Both outcomes must actually occur, or the mutations test nothing.
        assertTrue(clean > 10 && rejected > 100, "clean=" + clean + " rejected=" + rejected);
    }

    private static byte[] mutate(byte[] original, SplittableRandom rnd) {
        byte[] b = original.clone();
        int headerLen = (int) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        switch (rnd.nextInt(6)) {
            case 0 -> { // flip bits anywhere
                for (int k = 0, n = 1 + rnd.nextInt(4); k < n; k++)
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            case 1 -> { // overwrite a header byte with a JSON-significant character
                byte[] chars = "{}[],:\"0123456789-e. ".getBytes(StandardCharsets.US_ASCII);
                b[8 + rnd.nextInt(headerLen)] = chars[rnd.nextInt(chars.length)];
            }
            case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length)); // truncate
            case 3 -> ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, rnd.nextLong(-5, b.length + 5));
            case 4 -> { // splice a hostile token over a number or string in the header
                String h = header(b);
                int at = rnd.nextInt(h.length());
                int end = Math.min(h.length(), at + 1 + rnd.nextInt(6));
                String spliced = h.substring(0, at) + SPLICES[rnd.nextInt(SPLICES.length)] + h.substring(end);
                byte[] hb = spliced.getBytes(StandardCharsets.UTF_8);
                b = SafetensorsTest.fileBytes(
                        new String(hb, StandardCharsets.UTF_8),
                        java.util.Arrays.copyOfRange(original, 8 + headerLen, original.length));
            }
            default -> { // leave the header alone but corrupt data bytes (must still read: any bits are floats)
                for (int k = 0; k < 8; k++)
                    b[8 + headerLen + rnd.nextInt(b.length - 8 - headerLen)] = (byte) rnd.nextInt();
            }
        }
        return b;
    }

    private static String header(byte[] b) {
        if (b.length < 8) return "<short>";
        long len = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int n = (int) Math.max(0, Math.min(len, b.length - 8));
        return new String(b, 8, n, StandardCharsets.UTF_8);
    }
}

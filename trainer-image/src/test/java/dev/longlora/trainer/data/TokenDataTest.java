package dev.longlora.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenDataTest {

    @TempDir
    Path dir;

    @Test
    void uint16AndUint32FilesRoundTrip() {
        int[] tokens = {0, 1, 65535, 300, 42};
        Path f16 = dir.resolve("t16.bin");
        TokenFileWriter.write(f16, tokens, TokenDtype.UINT16);
        try (MappedTokenFile f = MappedTokenFile.open(f16, TokenDtype.UINT16)) {
            assertEquals(5, f.length());
            assertArrayEquals(tokens, f.slice(0, 5));
            assertArrayEquals(new int[] {65535, 300}, f.slice(2, 2));
        }
        int[] big = {128000, 7, 1 << 30};
        Path f32 = dir.resolve("t32.bin");
        TokenFileWriter.write(f32, big, TokenDtype.UINT32);
        try (MappedTokenFile f = MappedTokenFile.open(f32, TokenDtype.UINT32)) {
            assertArrayEquals(big, f.slice(0, 3));
        }
        assertThrows(IllegalArgumentException.class, () -> TokenFileWriter.write(f16, big, TokenDtype.UINT16));
    }

    @Test
    void badTokenFilesNameTheFile() throws IOException {
        Path odd = dir.resolve("odd.bin");
        Files.write(odd, new byte[] {1, 2, 3});
        FormatException e = assertThrows(FormatException.class, () -> MappedTokenFile.open(odd, TokenDtype.UINT16));
        assertTrue(e.getMessage().contains("odd.bin") && e.getMessage().contains("whole number"), e.getMessage());
        assertTrue(assertThrows(
                        FormatException.class, () -> MappedTokenFile.open(dir.resolve("nope.bin"), TokenDtype.UINT16))
                .getMessage()
                .contains("nope.bin: token file not found"));
    }

    @Test
    void byteTokenizerRoundTripsUtf8AndWrapsDocuments() throws IOException {
        String text = "Grüße, 世界!";
        assertEquals(text, ByteTokenizer.INSTANCE.decode(ByteTokenizer.INSTANCE.encode(text)));
        int[] doc = ByteTokenizer.INSTANCE.encodeDocument("ab");
        assertArrayEquals(new int[] {ByteTokenizer.BOS, 'a', 'b', ByteTokenizer.EOS}, doc);
        Path f = dir.resolve("c.txt");
        Files.writeString(f, "first doc\n\n\nsecond\r\ndoc\n");
        try (TokenSource s = TextCorpus.open(f)) {
            int[] all = s.slice(0, (int) s.length());
            assertEquals(ByteTokenizer.BOS, all[0]);
            assertEquals("first docsecond\ndoc", ByteTokenizer.INSTANCE.decode(all));
            assertEquals(
                    2,
                    java.util.Arrays.stream(all)
                            .filter(t -> t == ByteTokenizer.EOS)
                            .count());
        }
    }

    @Test
    void trainingWindowsCoverEveryChunkOncePerEpochAndResumeAtAPosition() {
        int[] tokens = new int[10 * 8 + 5];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i;
        TrainingWindows w = new TrainingWindows(TokenSource.of(tokens, "t"), 8, 7);
        assertEquals(10, w.windowsPerEpoch());
        Set<Long> starts = new HashSet<>();
        long[] firstEpoch = new long[10];
        for (int i = 0; i < 10; i++) {
            TrainingWindows.Window win = w.next();
            assertArrayEquals(win.inputs(), win.labels(), "labels are the window (the model shifts them)");
            assertEquals(win.start(), win.inputs()[0]);
            assertEquals(0, win.start() % 8);
            assertEquals(8, win.inputs().length);
            starts.add(win.start());
            firstEpoch[i] = win.start();
        }
        assertEquals(10, starts.size(), "each chunk once per epoch");
        long[] second = new long[10];
        for (int i = 0; i < 10; i++) second[i] = w.next().start();
        assertNotEquals(
                java.util.Arrays.toString(firstEpoch), java.util.Arrays.toString(second), "reshuffled per epoch");

        TrainingWindows resumed = new TrainingWindows(TokenSource.of(tokens, "t"), 8, 7);
        resumed.seek(13);
        assertEquals(second[3], resumed.next().start());
        assertThrows(FormatException.class, () -> new TrainingWindows(TokenSource.of(new int[7], "short"), 8, 1));
    }

    @Test
    void evalWindowCountMatchesPythonRange() {
        // len(range(0, 1000 - 256, 256)) == 3; len(range(0, 0, 256)) == 0; len(range(0, 1, 256)) == 1
        assertEquals(3, EvalWindows.count(1000, 256, 256));
        assertEquals(0, EvalWindows.count(256, 256, 256));
        assertEquals(1, EvalWindows.count(257, 256, 256));
        assertEquals(4, EvalWindows.count(1025, 256, 256));
    }
}

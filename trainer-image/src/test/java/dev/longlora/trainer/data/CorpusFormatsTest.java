package dev.longlora.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.tokenizer.ByteTokenizer;
import dev.longlora.trainer.tokenizer.HfTokenizer;
import dev.longlora.trainer.tokenizer.Tokenizer;
import dev.longlora.trainer.tokenizer.TokenizerFixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text, JSONL and LongAlpaca corpora tokenized to .bin, streaming; SFT prompts masked; bad input named. */
class CorpusFormatsTest {

    @TempDir
    Path dir;

    private static int[] concat(List<int[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    private int[] tokenize(Tokenizer tok, CorpusFormat format, Path out, Path... inputs) {
        try (TokenStreamWriter w =
                new TokenStreamWriter(out, TokenDtype.forVocabulary(tok.vocabSize()), format == CorpusFormat.ALPACA)) {
            new CorpusTokenizer(tok, format).run(List.of(inputs), w, b -> {});
            w.commit();
        }
        try (MappedTokenFile f = MappedTokenFile.open(out, TokenDtype.forVocabulary(tok.vocabSize()))) {
            return f.slice(0, (int) f.length());
        }
    }

    @Test
    void textAndJsonlBecomeBosDocEosJoined() throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TokenizerFixtures.LLAMA3_STYLE)) {
            List<String> docs = List.of("First document, with 42 numbers.", "Second 🙂 one\nover two lines.", "东京");
            int[] expected = concat(docs.stream().map(tok::encodeDocument).toList());

            Path text = write("c.txt", "\uFEFF\n\n" + String.join("\n\n  \n", docs) + "\n\n\n");
            assertArrayEquals(expected, tokenize(tok, CorpusFormat.TEXT, dir.resolve("t.bin"), text));

            StringBuilder jsonl = new StringBuilder();
            for (String d : docs) {
                jsonl.append("{\"text\": ")
                        .append(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(d))
                        .append(", \"meta\": {\"source\": \"x\"}}\n\n");
            }
            Path jl = write("c.jsonl", "\uFEFF" + jsonl); // a leading byte-order mark is skipped
            assertArrayEquals(expected, tokenize(tok, CorpusFormat.JSONL, dir.resolve("j.bin"), jl));
            assertFalse(Files.exists(LabelMask.fileFor(dir.resolve("j.bin"))), "plain corpora have no label mask");

            // Several inputs are read in order into one file.
            assertArrayEquals(
                    concat(List.of(expected, expected)),
                    tokenize(tok, CorpusFormat.JSONL, dir.resolve("jj.bin"), jl, jl));
        }
    }

    @Test
    void alpacaMasksThePromptAndTrainsTheAnswer() throws IOException {
        Path json = write("sft.json", """
                [ {"instruction": "Summarize the paper.", "input": "", "output": "It extends context cheaply."},
                  {"instruction": "Translate", "input": "Hallo Welt", "output": "Hello world"} ]
                """);
        Tokenizer tok = ByteTokenizer.INSTANCE;
        Path bin = dir.resolve("sft.bin");
        int[] ids = tokenize(tok, CorpusFormat.ALPACA, bin, json);
        String p1 = AlpacaRecordReader.PREAMBLE + "### Instruction:\nSummarize the paper.\n\n### Response:";
        String p2 = AlpacaRecordReader.PREAMBLE_INPUT
                + "### Instruction:\nTranslate\n\n### Input:\nHallo Welt\n\n### Response:";
        int[] expected = concat(List.of(
                tok.encodeDocument(p1 + "It extends context cheaply."), tok.encodeDocument(p2 + "Hello world")));
        assertArrayEquals(expected, ids);

        try (TokenSource s = TokenSources.open(bin.toString(), "bin", TokenDtype.UINT16, 0)) {
            int[] labels = s.labels(0, s.slice(0, (int) s.length()));
            int first = 1 + p1.length(); // BOS + prompt bytes
            for (int i = 0; i < first; i++) assertEquals(TokenSource.IGNORE, labels[i], "prompt position " + i);
            String answer = "It extends context cheaply.";
            for (int i = first; i < first + answer.length() + 1; i++)
                assertEquals(ids[i], labels[i], "answer/EOS position " + i);
            int second = first + answer.length() + 1;
            assertEquals(TokenSource.IGNORE, labels[second], "BOS of the second record");
            assertEquals(ids[ids.length - 1], labels[ids.length - 1], "final EOS is trained");
            long trained = java.util.Arrays.stream(labels)
                    .filter(l -> l != TokenSource.IGNORE)
                    .count();
            assertEquals(answer.length() + 1 + "Hello world".length() + 1, trained);

            // Windows carry the masked labels.
            TrainingWindows w = new TrainingWindows(s, 16, 1);
            for (int k = 0; k < w.windowsPerEpoch(); k++) {
                TrainingWindows.Window win = w.next();
                assertArrayEquals(s.labels(win.start(), win.inputs()), win.labels());
            }
        }

        // The same records as JSON Lines give the same tokens.
        Path jl = write("sft.jsonl", """
                {"instruction": "Summarize the paper.", "output": "It extends context cheaply."}
                {"instruction": "Translate", "input": "Hallo Welt", "output": "Hello world"}
                """);
        assertArrayEquals(expected, tokenize(tok, CorpusFormat.ALPACA, dir.resolve("sft2.bin"), jl));
    }

    @Test
    void trainingOpensTextFormatsThroughTheTokenizer() throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TokenizerFixtures.LLAMA2_STYLE)) {
            StringBuilder sb = new StringBuilder();
            List<int[]> docs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String d = "Document " + i + " talks about attention over long contexts and 🙂 emoji.";
                sb.append("{\"text\": \"").append(d).append("\"}\n");
                docs.add(tok.encodeDocument(d));
            }
            Path jl = write("corpus.jsonl", sb.toString());
            int[] all = concat(docs);
            try (TokenSource s = TokenSources.open(jl.toString(), "jsonl", TokenDtype.UINT16, 0, () -> tok)) {
                assertEquals(all.length, s.length());
                assertArrayEquals(all, s.slice(0, all.length));
                assertTrue(s.description().contains("corpus.jsonl"), s.description());
                // Packing: non-overlapping windows of exactly seqLen tokens, documents joined with EOS.
                TrainingWindows w = new TrainingWindows(s, 64, 3);
                assertEquals(all.length / 64, w.windowsPerEpoch());
                TrainingWindows.Window win = w.next();
                assertEquals(64, win.inputs().length);
                assertArrayEquals(
                        java.util.Arrays.copyOfRange(all, (int) win.start(), (int) win.start() + 64), win.inputs());
            }
        }
    }

    @Test
    void badInputGetsOneClearMessage() throws IOException {
        Path jl = write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": oops}\n");
        FormatException e = assertThrows(
                FormatException.class,
                () -> tokenize(ByteTokenizer.INSTANCE, CorpusFormat.JSONL, dir.resolve("bad.bin"), jl));
        assertTrue(e.getMessage().contains("bad.jsonl") && e.getMessage().contains("line 3"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("bad.bin")), "a failed run leaves no output");
        assertFalse(Files.exists(dir.resolve("bad.bin.tmp")), "nor its temporary file");

        Path noText = write("notext.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n");
        e = assertThrows(
                FormatException.class,
                () -> tokenize(ByteTokenizer.INSTANCE, CorpusFormat.JSONL, dir.resolve("n.bin"), noText));
        assertTrue(
                e.getMessage().contains("notext.jsonl: line 2")
                        && e.getMessage().contains("\"text\""),
                e.getMessage());

        Path alpaca = write("bad.json", "[{\"instruction\": \"x\", \"output\": \"y\"}, {\"instruction\": \"x\"}]");
        e = assertThrows(
                FormatException.class,
                () -> tokenize(ByteTokenizer.INSTANCE, CorpusFormat.ALPACA, dir.resolve("a.bin"), alpaca));
        assertTrue(
                e.getMessage().contains("bad.json")
                        && e.getMessage().contains("record 2")
                        && e.getMessage().contains("output"),
                e.getMessage());

        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'a', '\n', (byte) 0xE9, '\n'});
        e = assertThrows(
                FormatException.class,
                () -> tokenize(ByteTokenizer.INSTANCE, CorpusFormat.TEXT, dir.resolve("l.bin"), latin1));
        assertTrue(e.getMessage().contains("latin1.txt") && e.getMessage().contains("UTF-8"), e.getMessage());

        e = assertThrows(
                FormatException.class,
                () -> TokenSources.open(
                        dir.resolve("missing.jsonl").toString(),
                        "jsonl",
                        TokenDtype.UINT16,
                        0,
                        () -> ByteTokenizer.INSTANCE));
        assertTrue(e.getMessage().contains("missing.jsonl") && e.getMessage().contains("not found"), e.getMessage());

        // A corpus shorter than one window.
        Path tiny = write("tiny.txt", "just a few words");
        try (TokenSource s =
                TokenSources.open(tiny.toString(), "text", TokenDtype.UINT16, 0, () -> ByteTokenizer.INSTANCE)) {
            e = assertThrows(FormatException.class, () -> new TrainingWindows(s, 4096, 0));
            assertTrue(
                    e.getMessage().contains("tiny.txt") && e.getMessage().contains("fewer than one training window"),
                    e.getMessage());
        }
    }

    @Test
    void idsBeyondUint16NeedUint32() {
        assertEquals(TokenDtype.UINT16, TokenDtype.forVocabulary(32000));
        assertEquals(TokenDtype.UINT16, TokenDtype.forVocabulary(65536));
        assertEquals(TokenDtype.UINT32, TokenDtype.forVocabulary(128256));
        Path out = dir.resolve("big.bin");
        try (TokenStreamWriter w = new TokenStreamWriter(out, TokenDtype.UINT16, false)) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> w.write(new int[] {5, 128000}, 0));
            assertTrue(e.getMessage().contains("128000") && e.getMessage().contains("uint32"), e.getMessage());
        }
        assertFalse(Files.exists(out));
        try (TokenStreamWriter w = new TokenStreamWriter(out, TokenDtype.UINT32, false)) {
            w.write(new int[] {5, 128000, 1 << 30}, 0);
            w.commit();
        }
        try (MappedTokenFile f = MappedTokenFile.open(out, TokenDtype.UINT32)) {
            assertArrayEquals(new int[] {5, 128000, 1 << 30}, f.slice(0, 3));
        }
    }
}

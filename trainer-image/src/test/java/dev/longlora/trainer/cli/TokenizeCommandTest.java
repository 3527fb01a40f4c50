package dev.longlora.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.data.LabelMask;
import dev.longlora.trainer.data.MappedTokenFile;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.tokenizer.HfTokenizer;
import dev.longlora.trainer.tokenizer.TokenizerFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code longlora tokenize}: .bin output equal to the tokenizer's documents, label masks, and one error per bad input. */
class TokenizeCommandTest {

    @TempDir
    Path dir;

    @Test
    void tokenizesJsonlIntoABinThatTrainAndEvalRead() throws IOException {
        Path in = dir.resolve("c.jsonl");
        Files.writeString(in, "{\"text\": \"Hello long context 🙂\"}\n{\"text\": \"def f(x):\\n    return x\"}\n");
        Path out = dir.resolve("out/c.bin");
        CliHarness r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                TokenizerFixtures.LLAMA2_STYLE.toString(),
                "--input",
                in.toString(),
                "--format",
                "jsonl",
                "--out",
                out.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("from 2 documents") && r.out().contains("uint16"), r.out());
        try (HfTokenizer t = HfTokenizer.load(TokenizerFixtures.LLAMA2_STYLE);
                MappedTokenFile f = MappedTokenFile.open(out, TokenDtype.UINT16)) {
            int[] a = t.encodeDocument("Hello long context 🙂");
            int[] b = t.encodeDocument("def f(x):\n    return x");
            int[] expected = IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
            assertArrayEquals(expected, f.slice(0, (int) f.length()));
        }
    }

    @Test
    void alpacaWritesALabelMask() throws IOException {
        Path in = dir.resolve("sft.json");
        Files.writeString(in, "[{\"instruction\": \"Say hi\", \"output\": \"hi\"}]");
        Path out = dir.resolve("sft.bin");
        CliHarness r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                "builtin:byte",
                "--input",
                in.toString(),
                "--format",
                "alpaca",
                "--out",
                out.toString(),
                "--dtype",
                "uint32");
        assertEquals(0, r.code(), r.toString());
        assertEquals(Files.size(out) / 4, Files.size(LabelMask.fileFor(out)));
        assertTrue(r.out().contains("3 of") && r.out().contains("-100"), r.out()); // "hi" + EOS trained
    }

    @Test
    void badInputExitsWithTheContractCodes() throws IOException {
        Path in = dir.resolve("bad.jsonl");
        Files.writeString(in, "{\"text\": \"a\"}\nnot json\n");
        Path out = dir.resolve("bad.bin");
        CliHarness r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                "builtin:byte",
                "--input",
                in.toString(),
                "--format",
                "jsonl",
                "--out",
                out.toString());
        assertEquals(ExitCode.BAD_MODEL_OR_DATA.code(), r.code(), r.toString());
        assertTrue(r.err().contains("bad.jsonl: line 2"), r.err());
        assertFalse(Files.exists(out));

        r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                dir.resolve("no-model").toString(),
                "--input",
                in.toString(),
                "--out",
                out.toString());
        assertEquals(ExitCode.BAD_MODEL_OR_DATA.code(), r.code(), r.toString());
        assertTrue(r.err().contains("tokenizer not found") && r.err().contains("no-model"), r.err());

        r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                "builtin:byte",
                "--input",
                dir.resolve("nope.txt").toString(),
                "--out",
                out.toString());
        assertEquals(ExitCode.BAD_MODEL_OR_DATA.code(), r.code(), r.toString());
        assertTrue(r.err().contains("nope.txt: corpus file not found"), r.err());

        r = CliHarness.run(
                "tokenize",
                "--tokenizer",
                "builtin:byte",
                "--input",
                in.toString(),
                "--format",
                "csv",
                "--out",
                out.toString());
        assertEquals(ExitCode.BAD_CONFIG.code(), r.code(), r.toString());
        assertTrue(r.err().contains("'csv'"), r.err());
    }
}

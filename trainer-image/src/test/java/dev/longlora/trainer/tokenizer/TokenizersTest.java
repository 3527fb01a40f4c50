package dev.longlora.trainer.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which tokenizer a model or argument selects, and what its tokenizer.json files say about vocabulary and BOS/EOS. */
class TokenizersTest {

    @TempDir
    Path dir;

    @Test
    void modelDirectoryWithTokenizerJsonGetsIt() throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        Files.copy(TokenizerFixtures.LLAMA3_STYLE.resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(
                TokenizerFixtures.LLAMA3_STYLE.resolve("tokenizer_config.json"),
                model.resolve("tokenizer_config.json"));
        Tokenizer t = Tokenizers.forModel(model.toString());
        assertInstanceOf(HfTokenizer.class, t);
        assertEquals(1160, t.vocabSize());
        assertEquals(1158, t.bos()); // <|begin_of_text|>, added after the learned vocabulary
        assertEquals(1159, t.eos());
        ((HfTokenizer) t).close();
    }

    @Test
    void llama2StyleSpecialsComeFirst() {
        try (HfTokenizer t = HfTokenizer.load(TokenizerFixtures.LLAMA2_STYLE.resolve("tokenizer.json"))) {
            assertEquals(1, t.bos());
            assertEquals(2, t.eos());
            assertEquals(1200, t.vocabSize());
            // A character absent from the vocabulary falls back to its UTF-8 bytes <0xNN> = ids 3 + byte.
            int[] ids = t.encode("⌬");
            assertEquals(4, ids.length, java.util.Arrays.toString(ids)); // "▁" + three bytes
            assertEquals(3 + 0xE2, ids[1]);
        }
    }

    @Test
    void djlIsOfflineBeforeItLoads() {
        try (HfTokenizer t = HfTokenizer.load(TokenizerFixtures.LLAMA2_STYLE)) {
            // Without these DJL may fetch libraries and probes a cloud metadata address (telemetry) on first use.
            assertEquals("true", System.getProperty("ai.djl.offline"));
            assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
            assertEquals(1, t.bos());
        }
    }

    @Test
    void byteModelsKeepTheByteTokenizer() throws IOException {
        assertSame(ByteTokenizer.INSTANCE, Tokenizers.forModel("builtin:tiny"));
        assertSame(ByteTokenizer.INSTANCE, Tokenizers.open("builtin:byte"));
        Path tiny = dir.resolve("tiny");
        Files.createDirectories(tiny);
        Files.writeString(tiny.resolve("config.json"), "{\"vocab_size\": 258}");
        assertSame(ByteTokenizer.INSTANCE, Tokenizers.forModel(tiny.toString()));
    }

    @Test
    void missingTokenizerIsOneClearError() throws IOException {
        Path llama = dir.resolve("llama");
        Files.createDirectories(llama);
        Files.writeString(llama.resolve("config.json"), "{\"vocab_size\": 32000}");
        FormatException e = assertThrows(FormatException.class, () -> Tokenizers.forModel(llama.toString()));
        assertTrue(e.getMessage().contains("llama") && e.getMessage().contains("no tokenizer.json"), e.getMessage());
        e = assertThrows(
                FormatException.class, () -> Tokenizers.open(dir.resolve("none").toString()));
        assertTrue(e.getMessage().contains("tokenizer not found"), e.getMessage());

        Path noEos = dir.resolve("noeos");
        Files.createDirectories(noEos);
        Files.writeString(
                noEos.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"added_tokens\": []}");
        e = assertThrows(FormatException.class, () -> Tokenizers.open(noEos.toString()));
        assertTrue(e.getMessage().contains("end-of-sequence") && e.getMessage().contains("eos_token"), e.getMessage());
    }
}

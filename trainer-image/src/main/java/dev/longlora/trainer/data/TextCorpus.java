package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A plain-text file through a tokenizer (the byte-level one for the tiny models): documents are separated by
 * blank lines, each one wrapped in BOS/EOS and joined, as LongLoRA joins documents with EOS before cutting windows.
 */
public final class TextCorpus {
    private TextCorpus() {
    }

    public static TokenSource open(Path file) {
        return open(file, ByteTokenizer.INSTANCE);
    }

    public static TokenSource open(Path file, Tokenizer tokenizer) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new FormatException(file, "text file not found");
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "is not UTF-8 text (use --format bin for token files)");
        } catch (IOException e) {
            throw new FormatException(file, "cannot read: " + e.getMessage(), e);
        }
        var ids = new java.util.ArrayList<int[]>();
        for (String doc : text.replace("\r\n", "\n").split("\n[ \t]*\n")) {
            if (!doc.isBlank()) ids.add(tokenizer.encodeDocument(doc.strip()));
        }
        int n = ids.stream().mapToInt(a -> a.length).sum();
        int[] all = new int[n];
        int at = 0;
        for (int[] a : ids) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return TokenSource.of(all, file + " (text, " + n + " tokens)");
    }
}

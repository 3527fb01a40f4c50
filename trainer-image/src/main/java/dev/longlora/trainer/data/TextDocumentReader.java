package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;

/** Plain UTF-8 text: documents are separated by blank (or whitespace-only) lines, each one stripped; CRLF reads as LF. */
final class TextDocumentReader implements ExampleReader {
    private final Path file;
    private final CountingInput input;
    private final BufferedReader reader;
    private long line;

    TextDocumentReader(Path file) throws IOException {
        this.file = file;
        this.input = CountingInput.open(file);
        this.reader = input.utf8Reader();
    }

    @Override
    public Example next() throws IOException {
        StringBuilder doc = new StringBuilder();
        String l;
        try {
            while ((l = reader.readLine()) != null) {
                line++;
                if (line == 1 && l.startsWith("\uFEFF")) l = l.substring(1); // a byte-order mark some editors write
                if (l.isBlank()) {
                    if (!doc.isEmpty()) break;
                    continue;
                }
                if (!doc.isEmpty()) doc.append('\n');
                doc.append(l);
            }
        } catch (CharacterCodingException e) {
            throw new FormatException(
                    file, "line " + (line + 1) + ": is not UTF-8 text (use --format bin for token files)");
        }
        return doc.isEmpty() ? null : Example.document(doc.toString().strip());
    }

    @Override
    public long bytesRead() {
        return input.count();
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}

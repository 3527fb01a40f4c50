package dev.longlora.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.io.FormatException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;

/**
 * JSON Lines, one object per line with a string {@code "text"} (RedPajama style; other fields are ignored), or,
 * through {@link #alpaca}, one LongAlpaca record per line. Blank lines are skipped; a bad line names file and line.
 */
final class JsonlDocumentReader implements ExampleReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final CountingInput input;
    private final BufferedReader reader;
    private final boolean alpaca;
    private long line;

    JsonlDocumentReader(Path file) throws IOException {
        this(file, false);
    }

    private JsonlDocumentReader(Path file, boolean alpaca) throws IOException {
        this.file = file;
        this.input = CountingInput.open(file);
        this.reader = input.utf8Reader();
        this.alpaca = alpaca;
    }

    /** LongAlpaca records, one per line. */
    static JsonlDocumentReader alpaca(Path file) throws IOException {
        return new JsonlDocumentReader(file, true);
    }

    @Override
    public Example next() throws IOException {
        String l;
        try {
            while ((l = reader.readLine()) != null) {
                line++;
                if (line == 1 && l.startsWith("\uFEFF")) l = l.substring(1); // a byte-order mark some editors write
                if (l.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(l);
                } catch (JsonProcessingException e) {
                    throw new FormatException(
                            file, "line " + line + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                return alpaca ? AlpacaRecordReader.example(node, file, "line " + line) : text(node);
            }
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "line " + (line + 1) + ": is not UTF-8");
        }
        return null;
    }

    private Example text(JsonNode node) {
        JsonNode text = node.path("text");
        if (!text.isTextual()) {
            throw new FormatException(
                    file, "line " + line + ": needs a string field \"text\" (one {\"text\": ...} object per line)");
        }
        return Example.document(text.asText());
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

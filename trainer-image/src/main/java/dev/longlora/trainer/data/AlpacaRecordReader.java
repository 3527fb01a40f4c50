package dev.longlora.trainer.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.io.PushbackInputStream;
import java.nio.file.Path;

/**
 * LongAlpaca-style SFT data: a JSON array of records (LongAlpaca-12k.json), streamed one record at a time, or JSON
 * Lines of records. Each record has {@code instruction}, {@code output} and optionally {@code input}; the prompt is
 * LongLoRA's Alpaca template ({@code supervised-fine-tune.py}), and only the output is trained.
 */
final class AlpacaRecordReader implements ExampleReader {
    static final String PREAMBLE_INPUT = "Below is an instruction that describes a task, paired with an input that "
            + "provides further context. Write a response that appropriately completes the request.\n\n";
    static final String PREAMBLE = "Below is an instruction that describes a task. Write a response that "
            + "appropriately completes the request.\n\n";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final CountingInput input;
    private final JsonParser parser;
    private final JsonlDocumentReader lines;
    private int record;

    AlpacaRecordReader(Path file) throws IOException {
        this.file = file;
        CountingInput in = CountingInput.open(file);
        PushbackInputStream peek = new PushbackInputStream(in, 1);
        int first;
        do {
            first = peek.read();
        } while (first == ' '
                || first == '\n'
                || first == '\r'
                || first == '\t'
                || first == 0xEF
                || first == 0xBB
                || first == 0xBF);
        if (first != '[') { // not an array: JSON Lines
            peek.close();
            this.input = null;
            this.parser = null;
            this.lines = JsonlDocumentReader.alpaca(file);
            return;
        }
        this.input = in;
        this.lines = null;
        peek.unread(first);
        this.parser = new JsonFactory(JSON).createParser(peek);
        this.parser.nextToken(); // START_ARRAY; records are then read one at a time
    }

    @Override
    public Example next() throws IOException {
        if (lines != null) return lines.next();
        JsonToken t;
        try {
            t = parser.nextToken();
            if (t == null || t == JsonToken.END_ARRAY) return null;
            if (t != JsonToken.START_OBJECT) {
                throw new FormatException(
                        file,
                        "record " + (record + 1) + " (line "
                                + parser.currentLocation().getLineNr()
                                + "): expected a JSON object {\"instruction\", \"input\", \"output\"}");
            }
            JsonNode node = parser.readValueAsTree();
            record++;
            return example(
                    node,
                    file,
                    "record " + record + " (line " + parser.currentLocation().getLineNr() + ")");
        } catch (JsonParseException e) {
            throw new FormatException(
                    file, "line " + e.getLocation().getLineNr() + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    static Example example(JsonNode node, Path file, String where) {
        JsonNode instruction = node.path("instruction");
        JsonNode output = node.path("output");
        if (!instruction.isTextual() || !output.isTextual()) {
            throw new FormatException(
                    file,
                    where + ": an alpaca record needs string fields \"instruction\" and "
                            + "\"output\" (and optionally \"input\")");
        }
        String in = node.path("input").isTextual() ? node.path("input").asText() : "";
        String prompt = in.isEmpty()
                ? PREAMBLE + "### Instruction:\n" + instruction.asText() + "\n\n### Response:"
                : PREAMBLE_INPUT + "### Instruction:\n" + instruction.asText() + "\n\n### Input:\n" + in
                        + "\n\n### Response:";
        return new Example(prompt, output.asText());
    }

    @Override
    public long bytesRead() {
        return lines != null ? lines.bytesRead() : input.count();
    }

    @Override
    public void close() throws IOException {
        if (lines != null) lines.close();
        else parser.close();
    }
}

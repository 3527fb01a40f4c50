package dev.longlora.trainer.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Reads a corpus file one example at a time (never the whole file at once). */
public interface ExampleReader extends Closeable {

    /** The next example, or null at the end of the file. */
    Example next() throws IOException;

    /** Bytes of the file consumed so far, for progress. */
    long bytesRead();

    static ExampleReader open(Path file, CorpusFormat format) {
        try {
            return switch (format) {
                case TEXT -> new TextDocumentReader(file);
                case JSONL -> new JsonlDocumentReader(file);
                case ALPACA -> new AlpacaRecordReader(file);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.longlora.trainer.data;

import dev.longlora.trainer.io.FormatException;
import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A corpus file opened for streaming, counting the bytes read (progress) and rejecting invalid UTF-8. */
final class CountingInput extends FilterInputStream {
    private long count;

    private CountingInput(InputStream in) {
        super(in);
    }

    static CountingInput open(Path file) throws IOException {
        try {
            return new CountingInput(Files.newInputStream(file));
        } catch (NoSuchFileException e) {
            throw new FormatException(file, "corpus file not found");
        }
    }

    BufferedReader utf8Reader() {
        return new BufferedReader(
                new InputStreamReader(
                        this,
                        StandardCharsets.UTF_8
                                .newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)),
                1 << 16);
    }

    long count() {
        return count;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) count++;
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) count += n;
        return n;
    }
}

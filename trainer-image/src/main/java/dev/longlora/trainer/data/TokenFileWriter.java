package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes token ids as a raw little-endian .bin file (the format {@link MappedTokenFile} reads). */
public final class TokenFileWriter {
    private TokenFileWriter() {}

    public static void write(Path file, int[] tokens, TokenDtype dtype) {
        ByteBuffer buf = ByteBuffer.allocate(tokens.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int t : tokens) {
            if (t < 0 || (dtype == TokenDtype.UINT16 && t > 0xffff)) {
                throw new ConfigException("token id " + t + " does not fit " + dtype.userName()
                        + (dtype == TokenDtype.UINT16 ? "; use uint32" : ""));
            }
            if (dtype == TokenDtype.UINT16) buf.putShort((short) t);
            else buf.putInt(t);
        }
        try {
            Files.write(file, buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}

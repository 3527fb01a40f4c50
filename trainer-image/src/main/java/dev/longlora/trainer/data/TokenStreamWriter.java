package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.io.FormatException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Streams token ids into a raw little-endian .bin file ({@link MappedTokenFile}'s format) and, for SFT data, a
 * label mask beside it ({@link LabelMask}). Both are written under a temporary name and renamed by
 * {@link #commit()}, so a failed run never leaves a half-written file under the final name.
 */
public final class TokenStreamWriter implements AutoCloseable {
    private final Path out;
    private final Path tmp;
    private final Path maskOut;
    private final Path maskTmp;
    private final TokenDtype dtype;
    private final OutputStream data;
    private final OutputStream mask;
    private final byte[] buf = new byte[4];
    private long tokens;
    private long trained;
    private boolean committed;

    /** @param withMask whether to write a label mask (SFT data) */
    public TokenStreamWriter(Path out, TokenDtype dtype, boolean withMask) {
        this.out = out;
        this.dtype = dtype;
        this.tmp = out.resolveSibling(out.getFileName() + ".tmp");
        this.maskOut = withMask ? LabelMask.fileFor(out) : null;
        this.maskTmp = withMask ? maskOut.resolveSibling(maskOut.getFileName() + ".tmp") : null;
        try {
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            this.data = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
            this.mask = withMask ? new BufferedOutputStream(Files.newOutputStream(maskTmp), 1 << 18) : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /**
     * Appends {@code ids}; positions before {@code trainFrom} are masked (prompt tokens) when a mask is written.
     * @throws IllegalArgumentException if an id does not fit the dtype
     */
    public void write(int[] ids, int trainFrom) {
        try {
            for (int i = 0; i < ids.length; i++) {
                int t = ids[i];
                if (t < 0 || (dtype == TokenDtype.UINT16 && t > 0xffff)) {
                    throw new ConfigException(
                            "token id " + Integer.toUnsignedString(t) + " does not fit " + dtype.userName() + " in "
                                    + out + (dtype == TokenDtype.UINT16 ? ": use --dtype uint32" : ""));
                }
                buf[0] = (byte) t;
                buf[1] = (byte) (t >>> 8);
                if (dtype == TokenDtype.UINT32) {
                    buf[2] = (byte) (t >>> 16);
                    buf[3] = (byte) (t >>> 24);
                }
                data.write(buf, 0, dtype.byteSize());
                if (mask != null) mask.write(i >= trainFrom ? 1 : 0);
                if (i >= trainFrom) trained++;
            }
            tokens += ids.length;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    public long tokens() {
        return tokens;
    }

    /** Tokens whose label is kept (all of them without a mask). */
    public long trainedTokens() {
        return trained;
    }

    /** Flushes, fsyncs nothing further, and moves the files to their final names. */
    public void commit() {
        try {
            data.close();
            if (mask != null) mask.close();
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (mask != null)
                Files.move(maskTmp, maskOut, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            else Files.deleteIfExists(LabelMask.fileFor(out)); // a stale mask would mislabel the new tokens
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** Without {@link #commit()}, removes the temporary files. */
    @Override
    public void close() {
        if (committed) return;
        try {
            data.close();
            if (mask != null) mask.close();
            Files.deleteIfExists(tmp);
            if (maskTmp != null) Files.deleteIfExists(maskTmp);
        } catch (IOException e) {
            throw new FormatException(out, "cannot remove temporary files: " + e.getMessage(), e);
        }
    }
}

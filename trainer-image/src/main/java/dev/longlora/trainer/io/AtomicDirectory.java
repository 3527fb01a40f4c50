package dev.longlora.trainer.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Publishes a directory all at once: its contents are written into {@code X.tmp/}, every file and the directory are
 * fsynced, and a rename makes it {@code X}. A reader (a resuming trainer, a model loader) therefore sees the old
 * directory or the complete new one, never a half-written one, even after a crash or SIGKILL. An existing {@code X}
 * is moved aside first and deleted only once the new one is in place. Checkpoints, the final adapter and merged
 * models are all written this way.
 */
public final class AtomicDirectory {
    public static final String TEMP_SUFFIX = ".tmp";
    private static final String REPLACED_SUFFIX = ".old";

    /** Writes the contents of the directory being built. */
    @FunctionalInterface
    public interface Contents {
        void writeInto(Path directory) throws IOException;
    }

    private AtomicDirectory() {}

    /** Builds {@code dest} through {@code contents} and publishes it; returns {@code dest}. */
    public static Path publish(Path dest, Contents contents) throws IOException {
        Path parent = dest.toAbsolutePath().getParent();
        Path tmp = sibling(dest, TEMP_SUFFIX);
        Files.createDirectories(parent);
        deleteTree(tmp); // the remains of a write that crashed
        Files.createDirectories(tmp);
        try {
            contents.writeInto(tmp);
            syncTree(tmp); // the rename publishes the directory: its contents must be on disk first
            install(tmp, dest);
            syncDirectory(parent);
        } finally {
            deleteTree(tmp);
        }
        return dest;
    }

    /** The temporary or replaced sibling of {@code dest}. */
    public static Path sibling(Path dest, String suffix) {
        return dest.resolveSibling(dest.getFileName() + suffix);
    }

    /** Renames {@code tmp} to {@code dest}; an existing {@code dest} is put back if the rename fails. */
    private static void install(Path tmp, Path dest) throws IOException {
        Path old = null;
        if (Files.exists(dest)) {
            old = sibling(dest, REPLACED_SUFFIX);
            deleteTree(old);
            Files.move(dest, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) Files.move(old, dest, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        if (old != null) deleteTree(old);
    }

    /** fsync of every regular file under {@code dir}, then of every directory, deepest first. */
    public static void syncTree(Path dir) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(dir)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            if (Files.isRegularFile(p)) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
        for (Path p : all) {
            if (Files.isDirectory(p)) syncDirectory(p);
        }
    }

    /** fsync of a directory's entries; some file systems refuse to open directories, which is harmless here. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // not supported on this file system
        }
    }

    /** Deletes {@code p} and everything under it; nothing when it does not exist. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}

package dev.longlora.trainer.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the repository files a benchmark reads besides its classes (the Python peers, the test tokenizers) from
 * wherever it is started: bin/bench names the repository root; otherwise the working directory or one of its parents
 * must be the root.
 */
final class RepoFiles {
    /** The system property through which bin/bench passes the repository root. */
    static final String ROOT_PROPERTY = "longlora.repo";

    private RepoFiles() {}

    /** The Python peer {@code script} of a benchmark. */
    static Path pythonPeer(String script) {
        return find("trainer-bench/src/main/python/" + script);
    }

    /** The file or directory at {@code pathInRepo}, relative to the repository root. */
    static Path find(String pathInRepo) {
        List<Path> roots = new ArrayList<>();
        String root = System.getProperty(ROOT_PROPERTY);
        if (root != null) {
            roots.add(Path.of(root));
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            roots.add(dir);
        }
        for (Path r : roots) {
            Path p = r.resolve(pathInRepo);
            if (Files.exists(p)) {
                return p;
            }
        }
        throw new IllegalStateException(
                "cannot find " + pathInRepo + ": run the benchmark through bin/bench or from inside the repository");
    }
}

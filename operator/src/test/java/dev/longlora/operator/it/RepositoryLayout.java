package dev.longlora.operator.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository that the tests read (crds/, examples/, charts/), found from the working directory. */
public final class RepositoryLayout {

    private RepositoryLayout() {}

    /** The repository root: the nearest ancestor of the working directory holding tools/env.sh. */
    public static Path root() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("tools/env.sh"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (a folder with tools/env.sh) above " + dir
                + ": run the tests from inside the repository");
    }

    public static Path crds() {
        return root().resolve("crds");
    }

    public static Path examples() {
        return root().resolve("examples");
    }

    public static Path chart() {
        return root().resolve("charts/longlora-operator");
    }
}

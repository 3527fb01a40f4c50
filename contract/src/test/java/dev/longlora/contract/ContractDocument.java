package dev.longlora.contract;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * docs/contract.md as test data: its examples and tables are what the tests of every module check against, so the
 * doc, the operator and the trainer cannot drift apart without a test failing. Shared with the operator's and the
 * trainer's tests through this module's test jar.
 */
public final class ContractDocument {
    private ContractDocument() {}

    /** The repository root (the first directory above the working directory that holds docs/contract.md). */
    public static Path repositoryRoot() {
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.isRegularFile(root.resolve("docs/contract.md"))) {
            root = root.getParent();
        }
        if (root == null) {
            throw new IllegalStateException(
                    "docs/contract.md not found above " + Path.of("").toAbsolutePath());
        }
        return root;
    }

    public static String text() {
        try {
            return Files.readString(repositoryRoot().resolve("docs/contract.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first ```json block of the section whose heading starts with {@code "## " + number + "."}. */
    public static String jsonExample(int section) {
        String doc = text();
        int heading = doc.indexOf("\n## " + section + ".");
        if (heading < 0) throw new IllegalStateException("docs/contract.md has no section " + section);
        int start = doc.indexOf("```json\n", heading) + "```json\n".length();
        return doc.substring(start, doc.indexOf("```", start));
    }

    /** The job.json example of section 4. */
    public static String jobJsonExample() {
        return jsonExample(4);
    }

    /** The rows of the first table of a section, as cells without the header and separator rows. */
    public static List<List<String>> table(int section) {
        String doc = text();
        int heading = doc.indexOf("\n## " + section + ".");
        int end = doc.indexOf("\n## ", heading + 1);
        List<List<String>> rows = new ArrayList<>();
        boolean header = true;
        for (String line : doc.substring(heading, end < 0 ? doc.length() : end).split("\n")) {
            if (!line.startsWith("|")) {
                if (!rows.isEmpty() || !header) break;
                continue;
            }
            if (header) {
                header = false;
                continue;
            }
            if (line.matches("^\\|[-| ]+\\|$")) continue;
            List<String> cells = new ArrayList<>();
            for (String cell : line.substring(1, line.length() - 1).split("\\|")) cells.add(cell.trim());
            rows.add(cells);
        }
        return rows;
    }
}

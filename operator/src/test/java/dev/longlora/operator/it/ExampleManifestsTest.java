package dev.longlora.operator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every manifest in {@code examples/} is accepted by the real API server with the repository's CRDs
 * (OpenAPI schema and CEL rules enforced by the server, as on a cluster), and re-applying it changes
 * nothing ({@code kubectl diff --server-side} exits 0: GitOps tools see no drift). Every manifest in
 * {@code examples/invalid/} is rejected, and the server's message contains each expected fragment,
 * recorded in the file itself as comment lines:
 *
 * <pre>
 * # expected-error: spec.distributed.gpusPerNode: Invalid value
 * </pre>
 *
 * Each manifest is applied into its own fresh namespace (manifests must not set metadata.namespace).
 */
@RealApiServerTest
class ExampleManifestsTest {

    /** {@code # expected-error: <fragment>}; also accepts {@code # expect:} and {@code # expected:}. */
    private static final Pattern EXPECTED =
            Pattern.compile("^#\\s*expect(?:ed)?(?:[-_ ]error)?:\\s*(.+?)\\s*$", Pattern.MULTILINE);

    @TestFactory
    Stream<DynamicTest> validExamplesAreAcceptedAndReapplyWithoutDiff(SharedApiServer server) throws IOException {
        List<Path> files = yamlFiles(RepositoryLayout.examples());
        assumeTrue(!files.isEmpty(), "no example manifests in " + RepositoryLayout.examples());
        return files.stream()
                .map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                    String ns = server.createNamespace("example-" + stem(file));
                    ToolResult apply = server.kubectl().run("apply", "--server-side", "-n", ns, "-f", file.toString());
                    assertEquals(0, apply.exitCode(), () -> file + " must be accepted\n" + apply.describe());
                    ToolResult diff = server.kubectl().run("diff", "--server-side", "-n", ns, "-f", file.toString());
                    assertEquals(
                            0,
                            diff.exitCode(),
                            () -> "re-applying " + file + " must change nothing\n" + diff.describe());
                    ToolResult get = server.kubectl().run("get", "longlorajobs", "-n", ns, "-o", "name");
                    assertEquals(0, get.exitCode(), get::describe);
                    assertFalse(get.stdout().isBlank(), () -> file + " created no LongLoRAJob\n" + get.describe());
                }));
    }

    @TestFactory
    Stream<DynamicTest> invalidExamplesAreRejectedWithTheExpectedMessage(SharedApiServer server) throws IOException {
        List<Path> files = yamlFiles(RepositoryLayout.examples().resolve("invalid"));
        assumeTrue(
                !files.isEmpty(),
                "no invalid manifests in " + RepositoryLayout.examples().resolve("invalid"));
        return files.stream()
                .map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                    List<String> fragments = expectedFragments(file);
                    assertFalse(
                            fragments.isEmpty(),
                            file + " records no expected error: add a line `# expected-error: <part of"
                                    + " the API server's message>`");
                    String ns = server.createNamespace("invalid-" + stem(file));
                    ToolResult apply = server.kubectl().run("apply", "--server-side", "-n", ns, "-f", file.toString());
                    assertNotEquals(0, apply.exitCode(), () -> file + " must be rejected\n" + apply.describe());
                    for (String fragment : fragments) {
                        assertTrue(
                                apply.stderr().contains(fragment),
                                () -> file + ": the rejection must mention \"" + fragment + "\"\n" + apply.describe());
                    }
                }));
    }

    static List<String> expectedFragments(Path file) throws IOException {
        Matcher m = EXPECTED.matcher(Files.readString(file));
        return m.results().map(r -> r.group(1)).toList();
    }

    private static List<Path> yamlFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> Files.isRegularFile(p)
                            && (p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")))
                    .sorted()
                    .toList();
        }
    }

    private static String stem(Path file) {
        return file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
    }
}

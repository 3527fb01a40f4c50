package dev.longlora.operator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * crds/ is generated from the Java API types and committed; this fails when it is stale. Refresh with
 * {@code mvn -pl operator test -Dtest=CrdFreshnessTest -Dlonglora.crds.refresh=true}.
 */
class CrdFreshnessTest {
    static final String FILE = "longlorajobs.longlora.dev-v1.yml";

    static Path crdsDir() {
        // Maven runs tests in the module directory; crds/ sits beside it at the repository root.
        return Path.of("").toAbsolutePath().getParent().resolve("crds");
    }

    /** kubectl shows printer columns in this order; the generator sorts them by JSON path. */
    static final List<String> COLUMN_ORDER =
            List.of("Phase", "Nodes", "GPUs", "Restarts", "Step", "Loss", "Tok/s", "PPL", "Age");

    static String generate() throws IOException {
        Path out = Files.createTempDirectory("crd");
        new CRDGenerator()
                .inOutputDir(out.toFile())
                .forCRDVersions("v1")
                .customResourceClasses(LongLoRAJob.class)
                .generate();
        KubernetesSerialization yaml = new KubernetesSerialization();
        CustomResourceDefinition crd =
                yaml.unmarshal(Files.readString(out.resolve(FILE)), CustomResourceDefinition.class);
        for (var version : crd.getSpec().getVersions()) {
            version.getAdditionalPrinterColumns().sort(Comparator.comparingInt(c -> COLUMN_ORDER.indexOf(c.getName())));
        }
        return "# Generated from the Java types in dev.longlora.operator.api by CrdFreshnessTest: do not edit.\n"
                + yaml.asYaml(crd);
    }

    @Test
    void everyPrinterColumnHasAPlace() throws IOException {
        String crd = generate();
        for (String column : COLUMN_ORDER) {
            assertTrue(crd.contains("name: \"" + column + "\""), "printer column " + column + " is missing");
        }
    }

    @Test
    void committedCrdMatchesTheJavaTypes() throws IOException {
        String generated = generate();
        Path committed = crdsDir().resolve(FILE);
        if (Boolean.getBoolean("longlora.crds.refresh")) {
            Files.createDirectories(committed.getParent());
            Files.writeString(committed, generated);
        }
        assertTrue(
                Files.exists(committed),
                "crds/" + FILE + " is missing; generate it with "
                        + "mvn -pl operator test -Dtest=CrdFreshnessTest -Dlonglora.crds.refresh=true");
        assertEquals(
                generated,
                Files.readString(committed),
                "crds/" + FILE + " is stale: the API types changed. "
                        + "Refresh it with mvn -pl operator test -Dtest=CrdFreshnessTest -Dlonglora.crds.refresh=true and commit it");
    }
}

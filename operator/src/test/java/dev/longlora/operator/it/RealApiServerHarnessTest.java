package dev.longlora.operator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

/** The harness itself: a real server that enforces server-side apply semantics, and working tools. */
@RealApiServerTest
class RealApiServerHarnessTest {

    @Test
    void namespacesAreFreshPerTest(KubernetesClient client, TestNamespace first, TestNamespace second) {
        assertNotEquals(first.name(), second.name());
        assertNotNull(client.namespaces().withName(first.name()).get());
        assertTrue(client.configMaps().inNamespace(first.name()).list().getItems().stream()
                .noneMatch(cm -> cm.getMetadata().getName().startsWith("probe")));
    }

    @Test
    void clientWritesAndReadsObjects(KubernetesClient client, TestNamespace ns) {
        client.configMaps()
                .inNamespace(ns.name())
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("probe")
                        .endMetadata()
                        .addToData("k", "v")
                        .build())
                .create();
        assertEquals(
                "v",
                client.configMaps()
                        .inNamespace(ns.name())
                        .withName("probe")
                        .get()
                        .getData()
                        .get("k"));
    }

    @Test
    void kubectlServerSideApplyIsIdempotentAndDiffDetectsChanges(SharedApiServer server, TestNamespace ns) {
        String manifest = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: probe
          namespace: %s
        data:
          k: v
        """.formatted(ns.name());
        ToolResult apply = server.kubectl().runWithInput(manifest, "apply", "--server-side", "-f", "-");
        assertEquals(0, apply.exitCode(), apply::describe);
        ToolResult same = server.kubectl().runWithInput(manifest, "diff", "--server-side", "-f", "-");
        assertEquals(0, same.exitCode(), same::describe);
        ToolResult changed =
                server.kubectl().runWithInput(manifest.replace("k: v", "k: w"), "diff", "--server-side", "-f", "-");
        assertEquals(1, changed.exitCode(), changed::describe);
    }
}

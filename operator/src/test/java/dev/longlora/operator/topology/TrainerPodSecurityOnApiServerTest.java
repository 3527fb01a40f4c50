package dev.longlora.operator.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.operator.it.RealApiServerTest;
import dev.longlora.operator.it.TestNamespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

/**
 * The trainer pods the operator builds are admitted by the API server's PodSecurity admission in a namespace that
 * enforces the restricted profile, CPU and GPU pods alike; and a pod that drops the operator's security context (a
 * sanity check of the setup) is refused.
 */
@RealApiServerTest
class TrainerPodSecurityOnApiServerTest {

    @Test
    void trainerPodsAreAdmittedUnderTheRestrictedProfile(KubernetesClient client, TestNamespace namespace) {
        String ns = namespace.name();
        client.namespaces()
                .resource(new NamespaceBuilder(client.namespaces().withName(ns).get())
                        .editMetadata()
                        .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
                        .addToLabels("pod-security.kubernetes.io/enforce-version", "latest")
                        .endMetadata()
                        .build())
                .update();
        client.serviceAccounts()
                .inNamespace(ns)
                .resource(new ServiceAccountBuilder()
                        .withNewMetadata()
                        .withName("llama-trainer")
                        .endMetadata()
                        .build())
                .create();
        for (int gpus : new int[] {0, 8}) {
            Pod pod = inNamespace(new JobTopology(TestJobs.job(2, gpus), TestJobs.SETTINGS).pod(1, gpus), ns);
            Pod created = client.pods().inNamespace(ns).resource(pod).create();
            assertTrue(created.getSpec()
                    .getContainers()
                    .getFirst()
                    .getSecurityContext()
                    .getReadOnlyRootFilesystem());
        }

        Pod loose = inNamespace(new JobTopology(TestJobs.job(1, 0), TestJobs.SETTINGS).pod(0, 7), ns);
        loose.getSpec().setSecurityContext(null);
        loose.getSpec().getContainers().getFirst().setSecurityContext(null);
        try {
            client.pods().inNamespace(ns).resource(loose).create();
            throw new AssertionError("a pod without the security contexts must be refused under restricted");
        } catch (KubernetesClientException e) {
            assertEquals(403, e.getCode(), e.getMessage());
            assertTrue(e.getMessage().contains("restricted"), e.getMessage());
        }
    }

    private static Pod inNamespace(Pod pod, String ns) {
        pod.getMetadata().setNamespace(ns);
        pod.getMetadata().setOwnerReferences(null);
        pod.getMetadata()
                .setName(pod.getMetadata().getName() + "-"
                        + pod.getSpec().getContainers().size()
                        + (pod.getSpec()
                                                .getContainers()
                                                .getFirst()
                                                .getResources()
                                                .getLimits()
                                        == null
                                ? "-cpu"
                                : "-gpu"));
        return pod;
    }
}

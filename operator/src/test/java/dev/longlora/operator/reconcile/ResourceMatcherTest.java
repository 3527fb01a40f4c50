package dev.longlora.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

class ResourceMatcherTest {
    static Service desired() {
        return new ServiceBuilder()
                .withNewMetadata()
                .withName("j")
                .addToLabels("a", "1")
                .endMetadata()
                .withNewSpec()
                .withClusterIP("None")
                .addNewPort()
                .withName("rendezvous")
                .withPort(29500)
                .endPort()
                .endSpec()
                .build();
    }

    @Test
    void fieldsTheServerAddsDoNotCountAsADifference() {
        Service actual = new ServiceBuilder(desired())
                .editMetadata()
                .withResourceVersion("7")
                .withUid("u")
                .addToLabels("added-by-someone", "x")
                .endMetadata()
                .editSpec()
                .withClusterIPs("None")
                .withType("ClusterIP")
                .editFirstPort()
                .withProtocol("TCP")
                .withNewTargetPort(29500)
                .endPort()
                .endSpec()
                .withNewStatus()
                .endStatus()
                .build();
        assertTrue(ResourceMatcher.matches(desired(), actual));
    }

    @Test
    void aChangedOrMissingFieldIsADifference() {
        assertFalse(ResourceMatcher.matches(desired(), null));
        assertFalse(ResourceMatcher.matches(
                desired(),
                new ServiceBuilder(desired())
                        .editSpec()
                        .editFirstPort()
                        .withPort(29501)
                        .endPort()
                        .endSpec()
                        .build()));
        assertFalse(ResourceMatcher.matches(
                desired(),
                new ServiceBuilder(desired())
                        .editMetadata()
                        .removeFromLabels("a")
                        .endMetadata()
                        .build()));
        assertFalse(
                ResourceMatcher.matches(
                        desired(),
                        new ServiceBuilder(desired())
                                .editSpec()
                                .addNewPort()
                                .withName("extra")
                                .withPort(1)
                                .endPort()
                                .endSpec()
                                .build()),
                "a list is compared whole");
    }

    @Test
    void dataIsComparedByValue() {
        var cm = new ConfigMapBuilder()
                .withNewMetadata()
                .withName("c")
                .endMetadata()
                .addToData("job.json", "{}")
                .build();
        assertTrue(ResourceMatcher.matches(cm, new ConfigMapBuilder(cm).build()));
        assertFalse(ResourceMatcher.matches(
                cm, new ConfigMapBuilder(cm).addToData("job.json", "{ }").build()));
    }
}

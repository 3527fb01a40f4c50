package dev.longlora.trainer.progress;

import dev.longlora.contract.Annotations;
import dev.longlora.contract.ProgressReport;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;

/**
 * Writes a report into the {@link Annotations#PROGRESS} annotation of one pod with a JSON merge patch: one request,
 * no read first, and only that annotation changes (the per-job Role grants {@code patch} on the job's own pods).
 */
public final class PodAnnotationTransport implements ProgressPublisher.Transport {
    private final KubernetesClient client;
    private final String namespace;
    private final String pod;

    public PodAnnotationTransport(KubernetesClient client, String namespace, String pod) {
        this.client = client;
        this.namespace = namespace;
        this.pod = pod;
    }

    @Override
    public void send(ProgressReport report) {
        Pod patch = new PodBuilder()
                .withMetadata(new ObjectMeta())
                .editMetadata()
                .withAnnotations(Map.of(Annotations.PROGRESS, report.toJson()))
                .endMetadata()
                .build();
        client.pods().inNamespace(namespace).withName(pod).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    public String describe() {
        return "pod " + namespace + "/" + pod;
    }
}

package dev.longlora.operator.reconcile;

import dev.longlora.contract.ApiNames;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jboss.logging.Logger;

/** Kubernetes Events on a job, so `kubectl describe llj` tells its story. */
final class JobEvents {
    private static final Logger LOG = Logger.getLogger(JobEvents.class);
    static final String COMPONENT = "longlora-operator";

    private JobEvents() {}

    static void record(KubernetesClient client, LongLoRAJob job, RecordEvent event) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        var e = new EventBuilder()
                .withNewMetadata()
                .withGenerateName(job.getMetadata().getName() + ".")
                .withNamespace(job.getMetadata().getNamespace())
                .endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder()
                        .withApiVersion(ApiNames.API_VERSION)
                        .withKind("LongLoRAJob")
                        .withName(job.getMetadata().getName())
                        .withNamespace(job.getMetadata().getNamespace())
                        .withUid(job.getMetadata().getUid())
                        .withResourceVersion(job.getMetadata().getResourceVersion())
                        .build())
                .withType(event.type())
                .withReason(event.reason())
                .withMessage(event.message())
                .withFirstTimestamp(now)
                .withLastTimestamp(now)
                .withCount(1)
                .withNewSource()
                .withComponent(COMPONENT)
                .endSource()
                .withReportingComponent(COMPONENT)
                .build();
        try {
            client.v1()
                    .events()
                    .inNamespace(job.getMetadata().getNamespace())
                    .resource(e)
                    .create();
        } catch (KubernetesClientException ex) {
            // An event is a courtesy: losing one must not fail the reconcile.
            LOG.warnf(
                    "could not record event %s on %s: %s",
                    event.reason(), job.getMetadata().getName(), ex.getMessage());
        }
    }
}

package dev.longlora.operator.reconcile;

import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.reconcile.Action.Apply;
import dev.longlora.operator.reconcile.Action.CreatePod;
import dev.longlora.operator.reconcile.Action.DeleteJob;
import dev.longlora.operator.reconcile.Action.DeletePod;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Objects;

/**
 * Carries out a plan. The status goes first, with optimistic locking on the job's resourceVersion: a reconcile that
 * planned from a stale copy fails there and is retried, before it could delete or create a pod. Writes go through
 * JOSDK's resource operations, which put what was written into the informer caches, so the next reconcile sees it.
 */
final class PlanExecutor {
  private PlanExecutor() {
  }

  static void execute(Plan plan, LongLoRAJob job, Context<LongLoRAJob> context) {
    var client = context.getClient();
    String ns = job.getMetadata().getNamespace();
    if (!Objects.equals(plan.status(), job.getStatus())) {
      LongLoRAJob update = new LongLoRAJob();
      update.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName()).withNamespace(ns)
          .withResourceVersion(job.getMetadata().getResourceVersion()).build());
      update.setSpec(job.getSpec());
      update.setStatus(plan.status());
      context.resourceOperations().updatePrimaryStatus(update);
    }
    for (Action action : plan.actions()) {
      switch (action) {
        case Apply a -> context.resourceOperations().serverSideApply(a.object());
        case CreatePod c -> {
          try {
            context.resourceOperations().create(c.pod());
          } catch (KubernetesClientException e) {
            // Already there: an earlier reconcile created it and the cache had not caught up yet.
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
              throw e;
            }
          }
        }
        case DeletePod d -> client.pods().inNamespace(ns).withName(d.name()).delete();
        case RecordEvent e -> JobEvents.record(client, job, e);
        case DeleteJob ignored -> client.resource(job).delete();
      }
    }
  }
}

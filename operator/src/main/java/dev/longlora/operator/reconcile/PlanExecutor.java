package dev.longlora.operator.reconcile;

import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.reconcile.Action.Apply;
import dev.longlora.operator.reconcile.Action.CreatePod;
import dev.longlora.operator.reconcile.Action.DeleteJob;
import dev.longlora.operator.reconcile.Action.DeletePod;
import dev.longlora.operator.reconcile.Action.RecordEvent;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Carries out a plan. The status goes first, with optimistic locking on the job's resourceVersion: a reconcile that
 * planned from a stale copy fails there and is retried, before it could delete or create a pod. Writes go through
 * JOSDK's resource operations, which put what was written into the informer caches, so the next reconcile sees it.
 * Independent writes go out together (on virtual threads) in three rounds: supporting objects (the pods need the
 * ServiceAccount), then pod creations and deletions, then events; a new job costs four round trips, not ten.
 */
final class PlanExecutor {
    private PlanExecutor() {}

    static void execute(Plan plan, LongLoRAJob job, Context<LongLoRAJob> context) {
        var client = context.getClient();
        String ns = job.getMetadata().getNamespace();
        if (!Objects.equals(plan.status(), job.getStatus())) {
            LongLoRAJob update = new LongLoRAJob();
            update.setMetadata(new ObjectMetaBuilder()
                    .withName(job.getMetadata().getName())
                    .withNamespace(ns)
                    .withResourceVersion(job.getMetadata().getResourceVersion())
                    .build());
            update.setSpec(job.getSpec());
            update.setStatus(plan.status());
            context.resourceOperations().updatePrimaryStatus(update);
        }
        inParallel(plan.actions(Apply.class), a -> context.resourceOperations().serverSideApply(a.object()));
        inParallel(
                plan.actions().stream()
                        .filter(a -> a instanceof CreatePod || a instanceof DeletePod)
                        .toList(),
                action -> {
                    switch (action) {
                        case CreatePod c -> create(context, c);
                        case DeletePod d -> delete(client, ns, d);
                        default -> throw new IllegalStateException("not a pod action: " + action);
                    }
                });
        inParallel(plan.actions(RecordEvent.class), e -> JobEvents.record(client, job, e));
        if (!plan.actions(DeleteJob.class).isEmpty()) {
            client.resource(job).delete();
        }
    }

    private static void delete(KubernetesClient client, String ns, DeletePod d) {
        var pod = client.pods().inNamespace(ns).withName(d.name());
        if (d.gracePeriodSeconds() != null) {
            pod.withGracePeriod(d.gracePeriodSeconds()).delete();
        } else {
            pod.delete();
        }
    }

    private static void create(Context<LongLoRAJob> context, CreatePod c) {
        try {
            context.resourceOperations().create(c.pod());
        } catch (KubernetesClientException e) {
            // Already there: an earlier reconcile created it and the cache had not caught up yet.
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
        }
    }

    /** Runs the writes together and waits for all; the first failure is rethrown (JOSDK retries the reconcile). */
    private static <A> void inParallel(List<A> actions, Consumer<A> write) {
        if (actions.size() == 1) {
            write.accept(actions.getFirst());
            return;
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = actions.stream()
                    .<Future<?>>map(a -> pool.submit(() -> write.accept(a)))
                    .toList();
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while writing", e);
                }
            }
        }
    }
}

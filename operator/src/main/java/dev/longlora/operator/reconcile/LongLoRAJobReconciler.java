package dev.longlora.operator.reconcile;

import dev.longlora.contract.Labels;
import dev.longlora.operator.api.JobPhase;
import dev.longlora.operator.api.LongLoRAJob;
import dev.longlora.operator.api.LongLoRAJobStatus;
import dev.longlora.operator.metrics.OperatorMetrics;
import dev.longlora.operator.topology.TopologySettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import jakarta.inject.Inject;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The JOSDK glue: observe (informer caches of the job's pods and objects, selected by the job-name label), plan
 * ({@link JobPlanner}, pure), write ({@link PlanExecutor}). The job itself is only ever written through its status.
 */
@ControllerConfiguration(name = LongLoRAJobReconciler.NAME)
public class LongLoRAJobReconciler implements Reconciler<LongLoRAJob> {
    public static final String NAME = "longlorajob";
    /** Secondary resources the operator owns, one informer each. */
    static final List<Class<? extends HasMetadata>> SECONDARY = List.of(
            Pod.class,
            PersistentVolumeClaim.class,
            Service.class,
            ConfigMap.class,
            ServiceAccount.class,
            Role.class,
            RoleBinding.class);

    private final JobPlanner planner;
    private final OperatorMetrics metrics;
    private final Clock clock;

    @Inject
    public LongLoRAJobReconciler(OperatorConfig config, OperatorMetrics metrics) {
        this(
                new TopologySettings(
                        config.trainer().image().cpu(),
                        config.trainer().image().cuda(),
                        config.trainer().imagePullPolicy()),
                metrics,
                Clock.systemUTC());
    }

    public LongLoRAJobReconciler(TopologySettings settings, OperatorMetrics metrics, Clock clock) {
        this.planner = new JobPlanner(settings);
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public List<EventSource<?, LongLoRAJob>> prepareEventSources(EventSourceContext<LongLoRAJob> context) {
        List<EventSource<?, LongLoRAJob>> sources = new ArrayList<>();
        for (Class<? extends HasMetadata> type : SECONDARY) {
            sources.add(informer(type, context));
        }
        return sources;
    }

    private static <R extends HasMetadata> InformerEventSource<R, LongLoRAJob> informer(
            Class<R> type, EventSourceContext<LongLoRAJob> context) {
        // By label, not owner reference: the checkpoint claim is deliberately not owned by the job.
        return new InformerEventSource<>(
                InformerEventSourceConfiguration.from(type, LongLoRAJob.class)
                        .withLabelSelector(Labels.JOB)
                        .withSecondaryToPrimaryMapper(Mappers.fromLabel(Labels.JOB, null, LongLoRAJob.class))
                        .build(),
                context);
    }

    @Override
    public UpdateControl<LongLoRAJob> reconcile(LongLoRAJob job, Context<LongLoRAJob> context) {
        long started = System.nanoTime();
        metrics.countJobsFrom(() -> context.getPrimaryCache().list().toList());
        List<Pod> pods = new ArrayList<>(context.getSecondaryResources(Pod.class));
        List<HasMetadata> objects = new ArrayList<>();
        for (Class<? extends HasMetadata> type : SECONDARY.subList(1, SECONDARY.size())) {
            objects.addAll(context.getSecondaryResources(type));
        }
        Plan plan = planner.plan(job, Observed.of(pods, objects), clock.instant());
        PlanExecutor.execute(plan, job, context);
        record(job.getStatus(), plan.status());
        metrics.observed(job.getMetadata().getNamespace(), job.getMetadata().getName(), plan.status());
        metrics.reconciled(Duration.ofNanos(System.nanoTime() - started));
        UpdateControl<LongLoRAJob> control = UpdateControl.noUpdate();
        plan.requeueAfter().ifPresent(control::rescheduleAfter);
        return control;
    }

    /**
     * A write the API server refused (say, a pod built from an overlay it does not accept) would otherwise retry
     * unseen: the reason goes into status.message while JOSDK retries with backoff. Conflicts are routine (the
     * optimistic lock on status) and stay out of it.
     */
    @Override
    public ErrorStatusUpdateControl<LongLoRAJob> updateErrorStatus(
            LongLoRAJob job, Context<LongLoRAJob> context, Exception e) {
        if (e instanceof KubernetesClientException k && k.getCode() == HttpURLConnection.HTTP_CONFLICT) {
            return ErrorStatusUpdateControl.defaultErrorProcessing();
        }
        String message = "reconcile failed, retrying: " + describe(e);
        LongLoRAJobStatus current = job.getStatus() != null ? job.getStatus() : LongLoRAJobStatus.initial();
        if (message.equals(current.message())) {
            return ErrorStatusUpdateControl.defaultErrorProcessing();
        }
        job.setStatus(current.withMessage(message));
        return ErrorStatusUpdateControl.patchStatus(job);
    }

    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k
                    && k.getStatus() != null
                    && k.getStatus().getMessage() != null) {
                return k.getStatus().getMessage();
            }
        }
        return String.valueOf(e.getMessage());
    }

    private void record(LongLoRAJobStatus before, LongLoRAJobStatus after) {
        if (after == null) {
            return;
        }
        int restartsBefore = before == null || before.restarts() == null ? 0 : before.restarts();
        int restartsAfter = after.restarts() == null ? 0 : after.restarts();
        if (restartsAfter > restartsBefore) {
            metrics.restarted(restartsAfter - restartsBefore);
        }
        JobPhase was = before == null ? null : before.phase();
        if (after.phase() != null && after.phase().isFinished() && after.phase() != was) {
            metrics.finished(after.phase());
        }
    }
}

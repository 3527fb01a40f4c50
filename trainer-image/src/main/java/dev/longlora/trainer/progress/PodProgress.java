package dev.longlora.trainer.progress;

import dev.longlora.contract.TrainerEnv;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The annotation sink of a trainer pod, from its environment: only where POD_NAME is set (a local run has no pod and
 * stays console-only, silently). The client is configured the standard way: the pod's service-account token in a
 * cluster, KUBECONFIG or ~/.kube/config outside one.
 */
public final class PodProgress {
    /** One request's limit: a hung API server costs the publisher thread this much, never a step. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private PodProgress() {}

    public static Optional<AnnotationProgressSink> fromEnvironment(
            Map<String, String> env, int everySeconds, Consumer<String> log) {
        String pod = env.get(TrainerEnv.POD_NAME);
        if (pod == null || pod.isBlank()) return Optional.empty();
        Config standard = Config.autoConfigure(null);
        String namespace = env.getOrDefault(TrainerEnv.NAMESPACE, standard.getNamespace());
        return Optional.of(forPod(standard, namespace, pod, Duration.ofSeconds(everySeconds), log));
    }

    /** The sink for {@code namespace/pod} through a client built from {@code config}. */
    public static AnnotationProgressSink forPod(
            Config config, String namespace, String pod, Duration every, Consumer<String> log) {
        Config bounded = new ConfigBuilder(config)
                .withRequestTimeout((int) REQUEST_TIMEOUT.toMillis())
                .withConnectionTimeout((int) REQUEST_TIMEOUT.toMillis())
                .withRequestRetryBackoffLimit(0) // the publisher backs off itself
                .build();
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(bounded).build();
        PodAnnotationTransport transport = new PodAnnotationTransport(client, namespace, pod);
        ProgressPublisher publisher = new ProgressPublisher(transport, every, transport.describe(), log);
        return new AnnotationProgressSink(publisher, client, Clock.systemUTC());
    }
}

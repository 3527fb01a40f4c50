package dev.longlora.operator.bench;

import dev.longlora.operator.it.RepositoryLayout;
import dev.longlora.operator.it.SharedApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Operator throughput and latency on a real API server (not a test; run by hand, see docs/benchmarks-operator.md).
 *
 * <p>Starts the shared kube-apiserver + etcd, runs the packaged operator as a separate process watching one
 * namespace, warms it up with a few jobs, then creates N LongLoRAJobs of M nodes each from one client (back to
 * back, or paced at a given rate), and times, for each job,
 * the interval from just before its create request to the watch event announcing the last of its pods.
 * Then, as the floor, it recreates the very objects the operator made (read back from the server) from one
 * client, sequentially, in another namespace: what the API server alone needs for the same writes.
 *
 * <pre>
 * operator/src/bench/run-operator-benchmark.sh [--jobs 200] [--nodes 2] [--rate 0] [--warmup 10] [--template FILE]
 * </pre>
 */
public final class OperatorBenchmark {

    private static final Pattern POD_NAME = Pattern.compile("(.+)-node-(\\d+)");
    /** Kinds the operator creates per job, in the order the floor run recreates them (pods last). */
    private static final List<String[]> OWNED_KINDS = List.of(
            new String[] {"v1", "PersistentVolumeClaim"},
            new String[] {"v1", "ServiceAccount"},
            new String[] {"rbac.authorization.k8s.io/v1", "Role"},
            new String[] {"rbac.authorization.k8s.io/v1", "RoleBinding"},
            new String[] {"v1", "ConfigMap"},
            new String[] {"v1", "Service"},
            new String[] {"v1", "Pod"});

    public static void main(String[] args) {
        int status = 0;
        try {
            benchmark(parse(args));
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            status = 1;
        }
        // Client threads (watches, HTTP pools) are not daemons; exiting runs the hook that stops the API server.
        System.exit(status);
    }

    private static void benchmark(Map<String, String> options) throws Exception {
        int jobs = Integer.parseInt(options.getOrDefault("jobs", "200"));
        int nodes = Integer.parseInt(options.getOrDefault("nodes", "2"));
        int warmup = Integer.parseInt(options.getOrDefault("warmup", "10"));
        double rate = Double.parseDouble(options.getOrDefault("rate", "0"));
        Path template = Path.of(options.getOrDefault(
                "template",
                RepositoryLayout.root()
                        .resolve("operator/src/bench/longlorajob-template.yaml")
                        .toString()));
        Path jar = Path.of(options.getOrDefault(
                "operator-jar",
                RepositoryLayout.root()
                        .resolve("operator/target/quarkus-app/quarkus-run.jar")
                        .toString()));
        Path outDir = RepositoryLayout.root().resolve("operator/target/bench");
        Files.createDirectories(outDir);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(
                    "no operator jar at " + jar + ": run `mvn -pl operator package -DskipTests`");
        }

        SharedApiServer server = SharedApiServer.get();
        KubernetesClient client = server.newClient();
        String ns = server.createNamespace("bench");
        GenericKubernetesResource jobTemplate = loadTemplate(template);
        System.out.printf("benchmark: %d jobs x %d nodes, operator %s, namespace %s%n", jobs, nodes, jar, ns);

        Path log = outDir.resolve("operator.log");
        Result operatorRun;
        Map<String, Double> requests;
        try (OperatorProcess operator =
                OperatorProcess.start(jar, server.kubeconfig(), ns, log, Map.of("KUBERNETES_NAMESPACE", ns))) {
            operator.awaitReady(Duration.ofSeconds(120), log);
            if (warmup > 0) {
                // Not measured: lets the operator's (and this client's) JIT and connection pools warm up.
                run(client, ns, jobTemplate, "warm", warmup, nodes, 0, log);
                System.out.printf("warm-up: %d jobs done%n", warmup);
            }
            ProcessStats before = operator.stats();
            double[] reconcilesBefore = reconcileCounters(operator.metrics());
            Map<String, Double> requestsBefore = ApiServerRequests.parse(client.raw("/metrics"));
            Timings timings = run(client, ns, jobTemplate, "bench", jobs, nodes, rate, log);
            ProcessStats after = operator.stats();
            double[] reconcilesAfter = reconcileCounters(operator.metrics());
            requests = ApiServerRequests.delta(requestsBefore, ApiServerRequests.parse(client.raw("/metrics")));
            operatorRun = new Result(
                    timings,
                    reconcilesAfter[0] - reconcilesBefore[0],
                    reconcilesAfter[1] - reconcilesBefore[1],
                    after.cpuSeconds() - before.cpuSeconds(),
                    after.cpuSeconds(),
                    after.peakRssBytes());
        }

        Floor floor = floor(server, client, ns);
        report(jobs, nodes, rate, operatorRun, floor);
        System.out.printf("API server requests during the measured run (all clients, per job):%n");
        requests.forEach((k, v) -> System.out.printf("  %-40s %6.0f  %5.2f/job%n", k, v, v / jobs));
    }

    /**
     * Per-job times of one batch.
     *
     * @param applyToPodsMs create request sent -> watch event of the job's last pod
     * @param applyToJobMs create request sent -> watch event of the job itself (the API server's share)
     */
    private record Timings(
            List<Double> applyToPodsMs, List<Double> applyToJobMs, double wallSeconds, double applySeconds) {}

    private record Result(
            Timings timings,
            double reconciles,
            double reconcileSeconds,
            double cpuSecondsDuringRun,
            double cpuSecondsTotal,
            long peakRssBytes) {}

    private record Floor(List<Double> perJobMs, double wallSeconds, int objects) {}

    /**
     * Creates {@code count} jobs named {@code prefix-NNN} (all at once, or {@code rate} per second when positive)
     * and waits until every one has all its pods, timing each from watch events.
     */
    private static Timings run(
            KubernetesClient client,
            String ns,
            GenericKubernetesResource template,
            String prefix,
            int count,
            int nodes,
            double rate,
            Path log)
            throws Exception {
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        Map<String, Long> jobSeenAt = new ConcurrentHashMap<>();
        Map<String, Map<Integer, Long>> podSeenAt = new ConcurrentHashMap<>();
        CountDownLatch allPods = new CountDownLatch(count);
        String prefixDash = prefix + "-";
        try (Watch pods = watchPods(client, ns, nodes, prefixDash, podSeenAt, allPods);
                Watch jobs = watchJobs(client, ns, prefixDash, jobSeenAt)) {
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                if (rate > 0) {
                    long due = start + (long) (i * 1e9 / rate);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                GenericKubernetesResource job = jobFrom(template, String.format("%s-%03d", prefix, i), nodes);
                sentAt.put(job.getMetadata().getName(), System.nanoTime());
                client.genericKubernetesResources(job.getApiVersion(), job.getKind())
                        .inNamespace(ns)
                        .resource(job)
                        .create();
            }
            long applied = System.nanoTime();
            if (!allPods.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException(
                        allPods.getCount() + " jobs still lack pods after 10 minutes; see " + log);
            }
            long end = System.nanoTime();
            List<Double> toPods = new ArrayList<>();
            List<Double> toJob = new ArrayList<>();
            sentAt.forEach((job, sent) -> {
                long last = podSeenAt.get(job).values().stream()
                        .mapToLong(Long::longValue)
                        .max()
                        .orElseThrow();
                toPods.add((last - sent) / 1e6);
                Long seen = jobSeenAt.get(job);
                if (seen != null) {
                    toJob.add((seen - sent) / 1e6);
                }
            });
            return new Timings(toPods, toJob, (end - start) / 1e9, (applied - start) / 1e9);
        }
    }

    private static Watch watchJobs(KubernetesClient client, String ns, String prefix, Map<String, Long> seen) {
        return client.genericKubernetesResources("longlora.dev/v1alpha1", "LongLoRAJob")
                .inNamespace(ns)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, GenericKubernetesResource job) {
                        long now = System.nanoTime();
                        if (action == Action.ADDED
                                && job.getMetadata().getName().startsWith(prefix)) {
                            seen.putIfAbsent(job.getMetadata().getName(), now);
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        if (cause != null) {
                            System.err.println("job watch closed: " + cause);
                        }
                    }
                });
    }

    private static Watch watchPods(
            KubernetesClient client,
            String ns,
            int nodes,
            String prefix,
            Map<String, Map<Integer, Long>> seen,
            CountDownLatch done) {
        return client.pods().inNamespace(ns).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                long now = System.nanoTime();
                if (action != Action.ADDED || !pod.getMetadata().getName().startsWith(prefix)) {
                    return;
                }
                Matcher m = POD_NAME.matcher(pod.getMetadata().getName());
                if (!m.matches()) {
                    return;
                }
                Map<Integer, Long> pods = seen.computeIfAbsent(m.group(1), k -> new ConcurrentHashMap<>());
                if (pods.putIfAbsent(Integer.parseInt(m.group(2)), now) == null && pods.size() == nodes) {
                    done.countDown();
                }
            }

            @Override
            public void onClose(WatcherException cause) {
                if (cause != null) {
                    System.err.println("pod watch closed: " + cause);
                }
            }
        });
    }

    /**
     * The floor: the objects the operator created, recreated by one client, job by job (the job, then what it
     * owns, pods last), in a fresh namespace with no operator watching it.
     */
    private static Floor floor(SharedApiServer server, KubernetesClient client, String sourceNs) {
        String ns = server.createNamespace("bench-floor");
        List<GenericKubernetesResource> jobs = client
                .genericKubernetesResources("longlora.dev/v1alpha1", "LongLoRAJob")
                .inNamespace(sourceNs)
                .list()
                .getItems()
                .stream()
                .filter(j -> j.getMetadata().getName().startsWith("bench-"))
                .collect(Collectors.toList());
        jobs.sort(Comparator.comparing(j -> j.getMetadata().getName()));
        Map<String, List<GenericKubernetesResource>> owned = new LinkedHashMap<>();
        for (String[] kind : OWNED_KINDS) {
            for (GenericKubernetesResource r : client.genericKubernetesResources(kind[0], kind[1])
                    .inNamespace(sourceNs)
                    .list()
                    .getItems()) {
                for (OwnerReference ref : r.getMetadata().getOwnerReferences()) {
                    owned.computeIfAbsent(ref.getUid(), k -> new ArrayList<>()).add(r);
                }
            }
        }
        List<Double> perJob = new ArrayList<>();
        int objects = 0;
        long start = System.nanoTime();
        for (GenericKubernetesResource job : jobs) {
            String oldUid = job.getMetadata().getUid();
            long t0 = System.nanoTime();
            GenericKubernetesResource copy = client.genericKubernetesResources(job.getApiVersion(), job.getKind())
                    .inNamespace(ns)
                    .resource(clean(job, ns))
                    .create();
            objects++;
            for (GenericKubernetesResource dependent : owned.getOrDefault(oldUid, List.of())) {
                GenericKubernetesResource c = clean(dependent, ns);
                c.getMetadata()
                        .getOwnerReferences()
                        .forEach(ref -> ref.setUid(copy.getMetadata().getUid()));
                client.genericKubernetesResources(c.getApiVersion(), c.getKind())
                        .inNamespace(ns)
                        .resource(c)
                        .create();
                objects++;
            }
            perJob.add((System.nanoTime() - t0) / 1e6);
        }
        return new Floor(perJob, (System.nanoTime() - start) / 1e9, objects);
    }

    /** A copy fit for create: no server-set metadata, no status, no allocated cluster IPs. */
    @SuppressWarnings("unchecked")
    private static GenericKubernetesResource clean(GenericKubernetesResource source, String ns) {
        GenericKubernetesResource copy = Serialization.clone(source);
        var meta = copy.getMetadata();
        meta.setNamespace(ns);
        meta.setUid(null);
        meta.setResourceVersion(null);
        meta.setCreationTimestamp(null);
        meta.setManagedFields(null);
        meta.setGeneration(null);
        copy.getAdditionalProperties().remove("status");
        if ("Service".equals(copy.getKind())
                && copy.getAdditionalProperties().get("spec") instanceof Map<?, ?> spec
                && !"None".equals(spec.get("clusterIP"))) {
            ((Map<String, Object>) spec).remove("clusterIP");
            ((Map<String, Object>) spec).remove("clusterIPs");
        }
        return copy;
    }

    /**
     * The operator's reconcile count and total reconcile seconds, from its Micrometer timer
     * {@code longlora.reconcile} ({@code longlora_reconcile_seconds_count/_sum}); NaN when it serves none.
     */
    static double[] reconcileCounters(String prometheusText) {
        double count = Double.NaN;
        double sum = Double.NaN;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith("longlora_reconcile_seconds_count")) {
                count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith("longlora_reconcile_seconds_sum")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return new double[] {count, sum};
    }

    private static GenericKubernetesResource loadTemplate(Path template) throws Exception {
        try (InputStream in = Files.newInputStream(template)) {
            return Serialization.unmarshal(in, GenericKubernetesResource.class);
        }
    }

    @SuppressWarnings("unchecked")
    private static GenericKubernetesResource jobFrom(GenericKubernetesResource template, String name, int nodes) {
        GenericKubernetesResource job = Serialization.clone(template);
        job.getMetadata().setName(name);
        job.getMetadata().setNamespace(null);
        Map<String, Object> spec =
                (Map<String, Object>) job.getAdditionalProperties().get("spec");
        ((Map<String, Object>) spec.computeIfAbsent("distributed", k -> new LinkedHashMap<>())).put("nodes", nodes);
        return job;
    }

    private static void report(int jobs, int nodes, double rate, Result run, Floor floor) {
        Timings t = run.timings();
        Percentiles latency = Percentiles.of(t.applyToPodsMs());
        Percentiles toJob = Percentiles.of(t.applyToJobMs());
        Percentiles floorPerJob = Percentiles.of(floor.perJobMs());
        System.out.println();
        System.out.printf(
                "date %s, %d CPUs, Java %s%n",
                Instant.now(), Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(
                "operator: %d jobs x %d nodes, %s; all pods after %.2f s (creates sent in %.2f s)%n",
                jobs,
                nodes,
                rate > 0 ? String.format("paced at %.1f jobs/s", rate) : "created back to back",
                t.wallSeconds(),
                t.applySeconds());
        System.out.printf("  apply -> all pods created: %s%n", latency);
        System.out.printf("  apply -> job visible (API server share): %s%n", toJob);
        System.out.printf(
                "  reconciles: %s%n",
                Double.isNaN(run.reconciles())
                        ? "n/a (no longlora_reconcile_seconds in /q/metrics)"
                        : String.format(
                                "%.0f, %.1f/s, mean %.1f ms each",
                                run.reconciles(),
                                run.reconciles() / t.wallSeconds(),
                                1000 * run.reconcileSeconds() / run.reconciles()));
        System.out.printf(
                "  operator CPU: %.2f s during the run (%.2f s including start-up and warm-up), peak RSS %.0f MiB%n",
                run.cpuSecondsDuringRun(), run.cpuSecondsTotal(), run.peakRssBytes() / 1048576.0);
        System.out.printf(
                "floor (API server alone, one client, sequential): %d objects in %.2f s, %.0f objects/s%n",
                floor.objects(), floor.wallSeconds(), floor.objects() / floor.wallSeconds());
        System.out.printf("  per job (job + its objects): %s%n", floorPerJob);
        System.out.printf(
                "ratio operator/floor: p50 %.1fx, p99 %.1fx, wall %.1fx%n",
                latency.p50() / floorPerJob.p50(),
                latency.p99() / floorPerJob.p99(),
                t.wallSeconds() / floor.wallSeconds());
        System.out.printf(
                "targets: p50 <= 250 ms %s, p99 <= 1000 ms %s%n",
                latency.p50() <= 250 ? "met" : "MISSED", latency.p99() <= 1000 ? "met" : "MISSED");
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: [--jobs N] [--nodes N] [--rate JOBS_PER_S] [--warmup N]"
                        + " [--template FILE] [--operator-jar FILE];"
                        + " bad argument: " + args[i]);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }
}

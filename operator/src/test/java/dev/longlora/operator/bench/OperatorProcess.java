package dev.longlora.operator.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packaged operator ({@code target/quarkus-app/quarkus-run.jar}) run as its own process against a
 * kubeconfig, so that its CPU time and memory can be measured apart from the benchmark's client.
 */
final class OperatorProcess implements AutoCloseable {

    private final Process process;
    private final int httpPort;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private OperatorProcess(Process process, int httpPort) {
        this.process = process;
        this.httpPort = httpPort;
    }

    /**
     * Starts the operator watching only {@code namespace}, logging to {@code log}.
     *
     * @param extraEnv more environment, e.g. reconciler tuning
     */
    static OperatorProcess start(Path jar, Path kubeconfig, String namespace, Path log, Map<String, String> extraEnv)
            throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-jar", jar.toString()));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("KUBECONFIG", kubeconfig.toString());
        env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_OPERATOR_SDK_NAMESPACES", namespace);
        env.put("LONGLORA_OPERATOR_LEADER_ELECTION_ENABLED", "false");
        env.putAll(extraEnv);
        return new OperatorProcess(builder.start(), port);
    }

    long pid() {
        return process.pid();
    }

    /** Waits until the operator reports ready (its informers are synced), or fails with its log's location. */
    void awaitReady(Duration timeout, Path log) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the operator exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/q/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the operator was not ready within " + timeout + "; see " + log);
    }

    /** The Prometheus text of /q/metrics, or an empty string when the operator serves none. */
    String metrics() throws InterruptedException {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/q/metrics"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : "";
        } catch (IOException e) {
            return "";
        }
    }

    ProcessStats stats() throws IOException {
        return ProcessStats.of(process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(Duration.ofSeconds(20))) {
            process.destroyForcibly().waitFor();
        }
    }
}

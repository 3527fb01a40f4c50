package dev.longlora.operator.reconcile;

import dev.longlora.operator.it.ControlPlaneBinaries;
import dev.longlora.operator.it.SharedApiServer;
import io.fabric8.kubernetes.client.Config;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Points the Quarkus application under test at the shared real kube-apiserver, watching one namespace of its own
 * (so it never reconciles other tests' jobs), with leader election off.
 */
public class RealApiServerForQuarkus implements QuarkusTestResourceLifecycleManager {
    static volatile String namespace;

    /** Real-API-server tests run when the binaries are there, and must run (and fail) under CI=true. */
    public static boolean available() {
        return ControlPlaneBinaries.locate().binaries().isPresent() || "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public Map<String, String> start() {
        SharedApiServer server = SharedApiServer.get();
        namespace = server.createNamespace("quarkus-app");
        Config config = Config.fromKubeconfig(server.kubeconfigYaml());
        Map<String, String> properties = new HashMap<>();
        properties.put("quarkus.kubernetes-client.api-server-url", config.getMasterUrl());
        put(properties, "ca-cert-data", config.getCaCertData());
        put(properties, "ca-cert-file", config.getCaCertFile());
        put(properties, "client-cert-data", config.getClientCertData());
        put(properties, "client-cert-file", config.getClientCertFile());
        put(properties, "client-key-data", config.getClientKeyData());
        put(properties, "client-key-file", config.getClientKeyFile());
        put(properties, "client-key-algo", config.getClientKeyAlgo());
        properties.put("quarkus.kubernetes-client.namespace", namespace);
        properties.put("quarkus.operator-sdk.namespaces", namespace);
        properties.put("longlora.operator.leader-election.enabled", "false");
        return properties;
    }

    private static void put(Map<String, String> properties, String key, String value) {
        if (value != null) {
            properties.put("quarkus.kubernetes-client." + key, value);
        }
    }

    @Override
    public void stop() {}
}

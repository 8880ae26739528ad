package dev.warmroute.cluster;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;

/** Serves {@code /metrics} in the Prometheus text format, with the JVM's own metrics added once per process. */
public final class MetricsServer implements AutoCloseable {

    private static volatile boolean jvmMetricsRegistered;

    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /** Starts the endpoint on host:port (port 0 picks a free one). */
    public static MetricsServer start(String host, int port, PrometheusRegistry registry) throws IOException {
        registerJvmMetrics(registry);
        return new MetricsServer(HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart());
    }

    private static synchronized void registerJvmMetrics(PrometheusRegistry registry) {
        if (!jvmMetricsRegistered && registry == PrometheusRegistry.defaultRegistry) {
            JvmMetrics.builder().register(registry);
            jvmMetricsRegistered = true;
        }
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}

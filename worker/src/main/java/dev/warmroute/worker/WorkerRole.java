package dev.warmroute.worker;

import dev.warmroute.cluster.ServerMain;
import dev.warmroute.http.HttpFront;
import dev.warmroute.http.HttpFrontConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The worker as a {@link ServerMain} role: {@code ServerMain worker FLAGS} (the JVMs that tests, drills and
 * {@code cluster up} start) and {@code warmroute worker} take the flags of {@link WorkerOptions} and start a
 * {@link WorkerServer}, and with {@code --http-port} the OpenAI-compatible front beside it. Registered in
 * {@code META-INF/services}.
 */
public final class WorkerRole implements ServerMain.Role<WorkerOptions> {

    @Override
    public String name() {
        return "worker";
    }

    @Override
    public WorkerOptions newOptions() {
        return new WorkerOptions();
    }

    @Override
    public ServerMain.Started start(WorkerOptions options, PrometheusRegistry registry) throws Exception {
        WorkerConfig config = options.toConfig();
        HttpFrontConfig http = options.http.toConfig(options.host);
        // The front binds first, so that its port goes into this server's ready file; it reaches this server's
        // ChatService over loopback once the server has its port. Without --http-port this is the server alone.
        HttpFront.Started<WorkerServer> started = HttpFront.startWith(http, registry, config.host(), WorkerServer::port,
                readyExtras -> WorkerServer.start(config, registry, readyExtras));
        return new ServerMain.Started(started.server().workerId(), started.served(), config.parentPid());
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.ServerMain;
import dev.warmroute.http.HttpFront;
import dev.warmroute.http.HttpFrontConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The router as a {@link ServerMain} role: {@code ServerMain router FLAGS} (the JVMs that tests, drills and
 * {@code cluster up} start) and {@code warmroute router} take the flags of {@link RouterOptions} and start a
 * {@link RouterServer}, and with {@code --http-port} the OpenAI-compatible front beside it. Registered in
 * {@code META-INF/services}.
 */
public final class RouterRole implements ServerMain.Role<RouterOptions> {

    @Override
    public String name() {
        return "router";
    }

    @Override
    public RouterOptions newOptions() {
        return new RouterOptions();
    }

    @Override
    public ServerMain.Started start(RouterOptions options, PrometheusRegistry registry) throws Exception {
        RouterConfig config = options.toConfig();
        HttpFrontConfig http = options.http.toConfig(options.host);
        // The front binds first, so that its port goes into this server's ready file; it reaches this server's
        // ChatService over loopback once the server has its port. Without --http-port this is the server alone.
        HttpFront.Started<RouterServer> started = HttpFront.startWith(http, registry, config.host(), RouterServer::port,
                readyExtras -> RouterServer.start(config, registry, readyExtras));
        return new ServerMain.Started(started.server().routerId(), started.served(), config.parentPid());
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.ServerMain;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The router as a {@link ServerMain} role: {@code ServerMain router FLAGS} (the JVMs that tests, drills and
 * {@code cluster up} start) and {@code warmroute router} take the flags of {@link RouterOptions} and start a
 * {@link RouterServer}. Registered in {@code META-INF/services}.
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
        RouterServer router = RouterServer.start(config, registry);
        return new ServerMain.Started(router.routerId(), router, config.parentPid());
    }
}

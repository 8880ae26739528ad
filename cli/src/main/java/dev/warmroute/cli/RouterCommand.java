package dev.warmroute.cli;

import dev.warmroute.router.RouterConfig;
import dev.warmroute.router.RouterMain;
import dev.warmroute.router.RouterOptions;
import dev.warmroute.http.HttpFrontConfig;
import dev.warmroute.http.HttpFrontOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code warmroute router}: the flags are the router module's own ({@link RouterOptions}), shared with RouterMain. */
@Command(name = "router", description = {
        "Route ChatService to warm workers: session affinity (rendezvous hashing + bindings shared by all",
        "routers), bounded load, per-worker breakers, retry and mid-stream resume on another worker; AdminService",
        "for status and draining. Joins the workers' Hazelcast cluster as a client (--members). SIGTERM stops",
        "gracefully."})
final class RouterCommand implements Callable<Integer> {

    @Mixin
    RouterOptions options;

    @Mixin
    HttpFrontOptions http;

    @Override
    public Integer call() throws Exception {
        RouterConfig config;
        HttpFrontConfig httpConfig;
        try {
            config = options.toConfig();
            httpConfig = http.toConfig(options.host);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            RouterMain.run(config, httpConfig);
        } catch (java.io.IOException e) {
            throw UserError.serverStart(e, options.host, options.port);
        }
        return 0;
    }
}

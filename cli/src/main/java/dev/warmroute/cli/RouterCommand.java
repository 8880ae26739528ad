package dev.warmroute.cli;

import dev.warmroute.cluster.ServerMain;
import dev.warmroute.router.RouterOptions;
import dev.warmroute.router.RouterRole;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code warmroute router}: the flags are the router module's own ({@link RouterOptions}), the same as the router JVMs' ({@link RouterRole}). */
@Command(name = "router", description = {
        "Route ChatService to warm workers: session affinity (rendezvous hashing + bindings shared by all",
        "routers), bounded load, per-worker breakers, retry and mid-stream resume on another worker; AdminService",
        "for status and draining. Joins the workers' Hazelcast cluster as a client (--members). SIGTERM stops",
        "gracefully."})
final class RouterCommand implements Callable<Integer> {

    @Mixin
    RouterOptions options;

    @Override
    public Integer call() throws Exception {
        try {
            ServerMain.serve(new RouterRole(), options);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        } catch (java.io.IOException e) {
            throw UserError.serverStart(e, options.host, options.port);
        }
        return 0;
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.ServiceProcess;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Runs one router in this JVM until SIGTERM (graceful stop in a shutdown hook) or kill -9. Takes the flags of
 * {@code warmroute router}; tests, drills and {@code cluster up} start it with {@code JvmLauncher}.
 */
@Command(name = "router", mixinStandardHelpOptions = true,
        description = "Route ChatService to warm workers (session affinity, bounded load, failover).")
public final class RouterMain implements Callable<Integer> {

    private static final ServiceProcess PROCESS = new ServiceProcess("router", RouterMain.class);

    @Mixin
    RouterOptions options;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new RouterMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> PROCESS.failed(e, cmd.getErr()));
        ServiceProcess.exitOnFailure(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        run(options.toConfig());
        return 0;
    }

    /** Starts the router, installs the graceful-stop hook and blocks until the server ends. */
    public static void run(RouterConfig config) throws Exception {
        RouterServer router = RouterServer.start(config, PrometheusRegistry.defaultRegistry);
        PROCESS.serve(router.routerId(), router, config.parentPid());
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.ServiceProcess;
import dev.warmroute.http.HttpFront;
import dev.warmroute.http.HttpFrontConfig;
import dev.warmroute.http.HttpFrontOptions;
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

    @Mixin
    HttpFrontOptions http;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new RouterMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> PROCESS.failed(e, cmd.getErr()));
        ServiceProcess.exitOnFailure(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        run(options.toConfig(), http.toConfig(options.host));
        return 0;
    }

    /** Starts the router, installs the graceful-stop hook and blocks until the server ends. */
    public static void run(RouterConfig config) throws Exception {
        run(config, null);
    }

    /**
     * Starts the router and, when {@code http} is not null, the OpenAI-compatible HTTP front beside it (bound first,
     * so that its port goes into the ready file; it reaches this router's ChatService over loopback).
     */
    public static void run(RouterConfig config, HttpFrontConfig http) throws Exception {
        PrometheusRegistry registry = PrometheusRegistry.defaultRegistry;
        HttpFront.Started<RouterServer> started = HttpFront.startWith(http, registry, config.host(), RouterServer::port,
                readyExtras -> RouterServer.start(config, registry, readyExtras));
        PROCESS.serve(started.server().routerId(), started.served(), config.parentPid());
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.ParentWatch;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private static final Logger log = LoggerFactory.getLogger(RouterMain.class);

    @Mixin
    RouterOptions options;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new RouterMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("warmroute router: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (!(e instanceof IllegalArgumentException)) {
                e.printStackTrace(cmd.getErr());
            }
            return e instanceof IllegalArgumentException ? 2 : 1;
        });
        int code = cli.execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        run(options.toConfig());
        return 0;
    }

    /** Starts the router, installs the graceful-stop hook and blocks until the server ends. */
    public static void run(RouterConfig config) throws Exception {
        RouterServer router = RouterServer.start(config, PrometheusRegistry.defaultRegistry);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("router.signal router={}: stopping gracefully", router.routerId());
            router.close();
        }, "router-shutdown"));
        if (config.parentPid() > 0) {
            ParentWatch.exitWhenGone(config.parentPid());
        }
        router.awaitTermination();
    }
}

package dev.warmroute.worker;

import dev.warmroute.cluster.ParentWatch;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Runs one worker in this JVM until SIGTERM (graceful stop in a shutdown hook) or kill -9. Takes the flags of
 * {@code warmroute worker}; tests, drills and {@code cluster up} start it with {@code JvmLauncher}.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Serve ChatService with warm KV caches, sessions in Hazelcast.")
public final class WorkerMain implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    @Mixin
    WorkerOptions options;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new WorkerMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("warmroute worker: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
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

    /** Starts the worker, installs the graceful-stop hook and blocks until the server ends. */
    public static void run(WorkerConfig config) throws Exception {
        WorkerServer worker = WorkerServer.start(config, PrometheusRegistry.defaultRegistry);
        Thread hook = new Thread(() -> {
            log.info("worker.signal worker={}: stopping gracefully", worker.workerId());
            worker.close();
        }, "worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (config.parentPid() > 0) {
            ParentWatch.exitWhenGone(config.parentPid());
        }
        worker.awaitTermination();
    }
}

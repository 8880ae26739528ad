package dev.warmroute.worker;

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
 * Runs one worker in this JVM until SIGTERM (graceful stop in a shutdown hook) or kill -9. Takes the flags of
 * {@code warmroute worker}; tests, drills and {@code cluster up} start it with {@code JvmLauncher}.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Serve ChatService with warm KV caches, sessions in Hazelcast.")
public final class WorkerMain implements Callable<Integer> {

    private static final ServiceProcess PROCESS = new ServiceProcess("worker", WorkerMain.class);

    @Mixin
    WorkerOptions options;

    @Mixin
    HttpFrontOptions http;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new WorkerMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> PROCESS.failed(e, cmd.getErr()));
        ServiceProcess.exitOnFailure(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        run(options.toConfig(), http.toConfig(options.host));
        return 0;
    }

    /** Starts the worker, installs the graceful-stop hook and blocks until the server ends. */
    public static void run(WorkerConfig config) throws Exception {
        run(config, null);
    }

    /**
     * Starts the worker and, when {@code http} is not null, the OpenAI-compatible HTTP front beside it (bound first,
     * so that its port goes into the ready file; it reaches this worker's ChatService over loopback).
     */
    public static void run(WorkerConfig config, HttpFrontConfig http) throws Exception {
        PrometheusRegistry registry = PrometheusRegistry.defaultRegistry;
        HttpFront.Started<WorkerServer> started = HttpFront.startWith(http, registry, config.host(), WorkerServer::port,
                readyExtras -> WorkerServer.start(config, registry, readyExtras));
        PROCESS.serve(started.server().workerId(), started.served(), config.parentPid());
    }
}

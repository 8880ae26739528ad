package dev.warmroute.cli;

import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerMain;
import dev.warmroute.worker.WorkerOptions;
import dev.warmroute.http.HttpFrontConfig;
import dev.warmroute.http.HttpFrontOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code warmroute worker}: the flags are the worker module's own ({@link WorkerOptions}), shared with WorkerMain. */
@Command(name = "worker", description = "Serve ChatService with warm KV caches; session history in Hazelcast. "
        + "Several workers on one machine form one cluster: give each its own --port and --hazelcast-port, and the "
        + "first one's Hazelcast address in --members. SIGTERM stops gracefully (running turns finish).")
final class WorkerCommand implements Callable<Integer> {

    @Mixin
    WorkerOptions options;

    @Mixin
    HttpFrontOptions http;

    @Override
    public Integer call() throws Exception {
        WorkerConfig config;
        HttpFrontConfig httpConfig;
        try {
            config = options.toConfig();
            httpConfig = http.toConfig(options.host);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            WorkerMain.run(config, httpConfig);
        } catch (dev.warmroute.engine.ModelLoadException e) {
            throw new UserError("model: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        } catch (java.io.IOException e) {
            throw UserError.serverStart(e, options.host, options.port);
        }
        return 0;
    }
}

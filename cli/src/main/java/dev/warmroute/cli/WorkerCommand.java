package dev.warmroute.cli;

import dev.warmroute.cluster.ServerMain;
import dev.warmroute.worker.WorkerOptions;
import dev.warmroute.worker.WorkerRole;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code warmroute worker}: the flags are the worker module's own ({@link WorkerOptions}), the same as the worker JVMs' ({@link WorkerRole}). */
@Command(name = "worker", description = "Serve ChatService with warm KV caches; session history in Hazelcast. "
        + "Several workers on one machine form one cluster: give each its own --port and --hazelcast-port, and the "
        + "first one's Hazelcast address in --members. SIGTERM stops gracefully (running turns finish).")
final class WorkerCommand implements Callable<Integer> {

    @Mixin
    WorkerOptions options;

    @Override
    public Integer call() throws Exception {
        try {
            ServerMain.serve(new WorkerRole(), options);
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

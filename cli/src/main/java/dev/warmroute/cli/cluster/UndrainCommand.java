package dev.warmroute.cli.cluster;

import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.launch.AdminClient;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code warmroute undrain WORKER}: the worker gets new sessions again. */
@Command(name = "undrain", description = "Take a worker out of drain: new sessions may be placed on it again.")
public final class UndrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--target", defaultValue = "127.0.0.1:7000", paramLabel = "HOST:PORT",
            description = "The router (default ${DEFAULT-VALUE}).")
    String target;

    @Parameters(index = "0", paramLabel = "WORKER", description = "Worker id, as `warmroute status` lists it.")
    String worker;

    @Override
    public Integer call() {
        try (AdminClient admin = new AdminClient(target)) {
            WorkerStatus w = admin.undrain(worker, Duration.ofSeconds(10));
            spec.commandLine().getOut().println("undrained " + w.getWorkerId() + " (" + w.getAddress()
                    + "): new sessions may be placed on it again");
        } catch (StatusRuntimeException e) {
            throw StatusCommand.AdminErrors.toUserError(e, target);
        }
        return 0;
    }
}

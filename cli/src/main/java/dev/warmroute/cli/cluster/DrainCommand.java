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

/** {@code warmroute drain WORKER}: no new sessions for that worker (every router sees the flag). */
@Command(name = "drain", description = {
        "Stop placing new sessions on a worker; its running turns finish and the sessions bound to it stay until it",
        "leaves. The flag lives in the cluster, so every router honours it. Draining the last serving worker",
        "needs --force."})
public final class DrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--target", defaultValue = "127.0.0.1:7000", paramLabel = "HOST:PORT",
            description = "The router (default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--force", description = "Drain even the last serving worker.")
    boolean force;

    @Parameters(index = "0", paramLabel = "WORKER", description = "Worker id, as `warmroute status` lists it.")
    String worker;

    @Override
    public Integer call() {
        try (AdminClient admin = new AdminClient(target)) {
            WorkerStatus w = admin.drain(worker, force, Duration.ofSeconds(10));
            spec.commandLine().getOut().println("drained " + w.getWorkerId() + " (" + w.getAddress()
                    + "): no new sessions; " + w.getSessionsBound() + " bound sessions stay, " + w.getInFlight()
                    + " turns in flight finish");
        } catch (StatusRuntimeException e) {
            throw StatusCommand.AdminErrors.toUserError(e, target);
        }
        return 0;
    }
}

package dev.warmroute.cli;

import dev.warmroute.cluster.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code warmroute health}: one standard gRPC health check ({@code grpc.health.v1.Health/Check}), for container
 * health checks and scripts where grpc_health_probe is not at hand. Exit codes follow grpc_health_probe's: 0 serving,
 * 2 bad flags, 3 the server could not be asked (refused, deadline), 4 it answered but is not serving.
 */
@Command(name = "health", description = {
        "Ask a worker or router for its gRPC health (grpc.health.v1). Prints the status; exit 0 when SERVING,",
        "3 when the server cannot be reached, 4 when it answers NOT_SERVING or UNKNOWN (e.g. starting or draining)."})
final class HealthCommand implements Callable<Integer> {

    static final int UNREACHABLE = 3;
    static final int NOT_SERVING = 4;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--target", defaultValue = "127.0.0.1:7000", paramLabel = "HOST:PORT",
            description = "Server to ask (default ${DEFAULT-VALUE}, the router).")
    String target;

    @Option(names = "--service", defaultValue = "", paramLabel = "NAME",
            description = "Service name to ask about (default: the whole server), e.g. warmroute.v1.ChatService.")
    String service;

    @Option(names = "--timeout-ms", defaultValue = "3000", description = "Deadline of each check (default ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--wait-seconds", defaultValue = "0",
            description = "Keep asking until SERVING or this long has passed (default ${DEFAULT-VALUE}: ask once).")
    long waitSeconds;

    @Override
    public Integer call() throws InterruptedException {
        HostPort address;
        try {
            address = HostPort.parse(target, "target");
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (timeoutMs < 1 || timeoutMs > 600_000) {
            throw new UserError("timeout-ms: must be in [1, 600000], got " + timeoutMs);
        }
        if (waitSeconds < 0 || waitSeconds > 3600) {
            throw new UserError("wait-seconds: must be in [0, 3600], got " + waitSeconds);
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress(address.host(), address.port(),
                dev.warmroute.cluster.tls.ClientTls.fromEnv()).build();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
            while (true) {
                Outcome outcome = check(channel);
                boolean last = outcome.code == 0 || System.nanoTime() >= deadline;
                if (last) {
                    (outcome.code == 0 ? spec.commandLine().getOut() : spec.commandLine().getErr())
                            .println(outcome.line);
                    return outcome.code;
                }
                Thread.sleep(250);
            }
        } finally {
            channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    private record Outcome(int code, String line) {}

    private Outcome check(ManagedChannel channel) {
        try {
            HealthCheckResponse r = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMs,
                    TimeUnit.MILLISECONDS).check(HealthCheckRequest.newBuilder().setService(service).build());
            String line = r.getStatus().name() + " " + target + (service.isEmpty() ? "" : " service=" + service);
            return new Outcome(r.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? 0 : NOT_SERVING, line);
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            if (s.getCode() == Status.Code.NOT_FOUND) {
                // The server runs but does not know the service name: not serving it.
                return new Outcome(NOT_SERVING, "SERVICE_UNKNOWN " + target + " service=" + service);
            }
            return new Outcome(UNREACHABLE, "UNREACHABLE " + target + ": " + s.getCode()
                    + (s.getDescription() == null ? "" : " " + s.getDescription()));
        }
    }
}

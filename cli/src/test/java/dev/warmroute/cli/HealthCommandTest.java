package dev.warmroute.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.GrpcServers;
import dev.warmroute.testing.Await;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code warmroute health} against a real gRPC server with the standard health service (the servers' own shape). */
class HealthCommandTest {

    private HealthStatusManager health;
    private Server server;

    @BeforeEach
    void start() throws Exception {
        health = new HealthStatusManager();
        server = GrpcServers.start("127.0.0.1", 0, health, List.of(), List.of(), null);
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Test
    void exitsZeroWhenServing() {
        health.setStatus("", ServingStatus.SERVING);
        CliRun.Result r = CliRun.run("health", "--target", target());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("SERVING " + target()), r.out());
    }

    @Test
    void exitsFourWhenTheServerAnswersNotServing() {
        health.setStatus("", ServingStatus.NOT_SERVING);
        CliRun.Result r = CliRun.run("health", "--target", target());
        assertEquals(HealthCommand.NOT_SERVING, r.code());
        assertTrue(r.err().startsWith("NOT_SERVING"), r.err());
    }

    @Test
    void asksAboutANamedServiceAndCallsAnUnknownOneNotServing() {
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("warmroute.v1.ChatService", ServingStatus.SERVING);
        assertEquals(0, CliRun.run("health", "--target", target(), "--service", "warmroute.v1.ChatService").code());
        CliRun.Result r = CliRun.run("health", "--target", target(), "--service", "no.Such");
        assertEquals(HealthCommand.NOT_SERVING, r.code());
        assertTrue(r.err().contains("SERVICE_UNKNOWN"), r.err());
    }

    @Test
    void waitsUntilServing() throws Exception {
        // A health service of its own that counts the checks it answered: SERVING only after the command has been
        // answered NOT_SERVING twice, so it must have waited and asked again.
        HealthStatusManager counted = new HealthStatusManager();
        AtomicInteger checks = new AtomicInteger();
        ServerInterceptor counting = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        super.close(status, trailers);
                        checks.incrementAndGet();
                    }
                }, headers);
            }
        };
        Server own = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(counted.getHealthService(), counting)).build().start();
        try {
            counted.setStatus("", ServingStatus.NOT_SERVING);
            Thread flip = Thread.ofVirtual().start(() -> {
                try {
                    Await.until(() -> checks.get() >= 2, "the command asked twice");
                } catch (InterruptedException e) {
                    return;
                }
                counted.setStatus("", ServingStatus.SERVING);
            });
            CliRun.Result r = CliRun.run("health", "--target", "127.0.0.1:" + own.getPort(), "--wait-seconds", "60");
            flip.join();
            assertEquals(0, r.code(), r.err());
            assertTrue(checks.get() >= 3, "answered NOT_SERVING, then SERVING: " + checks.get() + " checks");
        } finally {
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void exitsThreeWhenNothingListens() throws InterruptedException {
        String gone = target();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        CliRun.Result r = CliRun.run("health", "--target", gone, "--timeout-ms", "2000");
        assertEquals(HealthCommand.UNREACHABLE, r.code());
        assertTrue(r.err().startsWith("UNREACHABLE " + gone + ": UNAVAILABLE"), r.err());
    }

    @Test
    void badTargetIsAUserError() {
        CliRun.Result r = CliRun.run("health", "--target", "nonsense");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("target: expected host:port"), r.err());
    }
}

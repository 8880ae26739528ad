package dev.warmroute.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.GrpcServers;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        health.setStatus("", ServingStatus.NOT_SERVING);
        Thread flip = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                return;
            }
            health.setStatus("", ServingStatus.SERVING);
        });
        CliRun.Result r = CliRun.run("health", "--target", target(), "--wait-seconds", "60");
        flip.join();
        assertEquals(0, r.code(), r.err());
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

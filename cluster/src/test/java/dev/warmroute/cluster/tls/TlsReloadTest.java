package dev.warmroute.cluster.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.GrpcServers;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rotated certificate is served without a restart: the server's files are replaced by ones from another CA, and
 * within the reload period a client that trusts only the new CA gets through while one trusting only the old does
 * not. Also: settings that cannot work are refused naming the flag.
 */
class TlsReloadTest {

    @TempDir
    Path dir;

    @Test
    void aRotatedCertificateIsServedWithoutARestart() throws Exception {
        DevCertificates.Written first = DevCertificates.write(dir.resolve("first"), List.of());
        DevCertificates.Written second = DevCertificates.write(dir.resolve("second"), List.of());
        Path cert = Files.copy(first.serverCert(), dir.resolve("cert.pem"));
        Path key = Files.copy(first.serverKey(), dir.resolve("key.pem"));
        TlsMaterial tls = TlsMaterial.open(new TlsSettings(cert, key, null, false, Duration.ofSeconds(1)));
        Server server = GrpcServers.start("127.0.0.1", 0, TlsMaterial.serverCredentials(tls), new HealthStatusManager(),
                List.of(), List.of(), null);
        try {
            assertTrue(serves(server.getPort(), first.ca()));
            assertThrows(StatusRuntimeException.class, () -> serves(server.getPort(), second.ca()));

            Files.copy(second.serverKey(), dir.resolve("key.tmp"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(second.serverCert(), dir.resolve("cert.tmp"), StandardCopyOption.REPLACE_EXISTING);
            Files.move(dir.resolve("key.tmp"), key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(dir.resolve("cert.tmp"), cert, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            boolean rotated = false;
            while (!rotated && System.nanoTime() < deadline) {
                try {
                    rotated = serves(server.getPort(), second.ca());
                } catch (StatusRuntimeException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(rotated, "the new certificate is served within the reload period");
            StatusRuntimeException old = assertThrows(StatusRuntimeException.class,
                    () -> serves(server.getPort(), first.ca()));
            assertEquals(Status.Code.UNAVAILABLE, old.getStatus().getCode());
        } finally {
            server.shutdownNow();
            tls.close();
        }
    }

    @Test
    void settingsThatCannotWorkAreRefusedNamingTheFlag() throws Exception {
        DevCertificates.Written w = DevCertificates.write(dir.resolve("c"), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(w.serverCert(), null, null, false, Duration.ofSeconds(60)));
        assertTrue(e.getMessage().startsWith("--tls-cert and --tls-key"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(w.serverCert(), w.serverKey(), null, true, Duration.ofSeconds(60)));
        assertTrue(e.getMessage().startsWith("--tls-client-auth require"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(dir.resolve("absent.pem"), w.serverKey(), null, false, Duration.ofSeconds(60)));
        assertTrue(e.getMessage().startsWith("--tls-cert: cannot read"), e.getMessage());
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate");
        e = assertThrows(IllegalArgumentException.class, () -> TlsMaterial.open(
                new TlsSettings(garbage, w.serverKey(), null, false, Duration.ofSeconds(60))));
        assertTrue(e.getMessage().startsWith("--tls-cert/--tls-key/--tls-ca: "), e.getMessage());
    }

    private static boolean serves(int port, Path ca) throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port,
                TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build()).build();
        try {
            HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.newBuilder()
                    .build());
            return true;
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}

package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cluster.tls.DevCertificates;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS with real processes ({@code cluster up --tls}): a router serving TLS and two workers requiring mutual TLS,
 * on dev certificates. A turn through the router works (its calls to the workers are mutual TLS); plaintext, an
 * untrusted CA, and a direct client without a certificate all fail the handshake, so nothing is served to them.
 */
class TlsThroughRouterTest {

    @TempDir
    static Path dir;

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(dir.resolve("cluster"), 2, b -> b.tls(true).router("r1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ChatClient client(String address, ChannelCredentials credentials) {
        return cluster.track(new ChatClient(address, new Metadata(), credentials));
    }

    private static ChannelCredentials trusting(Path ca) throws Exception {
        return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
    }

    private static void handshakeFails(ChatClient c) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> c.blocking()
                .listSessions(ListSessionsRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }

    @Test
    void aTurnOverTlsWorksAndIsWarmThroughMutualTlsToTheWorkers() throws Exception {
        ChatClient c = client(cluster.router("r1").grpcAddress(), trusting(cluster.local().certificates().ca()));
        c.create("tls-1", ChatClient.sampling(0f, 3, 6));
        c.send(ChatClient.message("tls-1", "t1", "Hello.")).assertContinuous();
        TurnComplete second = c.send(ChatClient.message("tls-1", "t2", "Go on.")).assertContinuous().complete();
        assertEquals(CacheStatus.CACHE_STATUS_WARM, second.getCache().getStatus());
        assertEquals(2, c.get("tls-1").getTurnCount());
    }

    @Test
    void plaintextAndUntrustedClientsFailTheHandshake() throws Exception {
        String router = cluster.router("r1").grpcAddress();
        handshakeFails(client(router, InsecureChannelCredentials.create()));
        DevCertificates.Written other = DevCertificates.write(dir.resolve("other-ca"), List.of());
        handshakeFails(client(router, trusting(other.ca())));
        // The JDK's CAs do not know the dev CA either.
        handshakeFails(client(router, TlsChannelCredentials.create()));
    }

    @Test
    void aWorkerRequiresAClientCertificateOfTheClustersCa() throws Exception {
        String worker = cluster.worker("w1").grpcAddress();
        DevCertificates.Written ours = cluster.local().certificates();
        handshakeFails(client(worker, InsecureChannelCredentials.create()));
        handshakeFails(client(worker, trusting(ours.ca())));
        DevCertificates.Written other = DevCertificates.write(dir.resolve("foreign"), List.of());
        handshakeFails(client(worker, TlsChannelCredentials.newBuilder().trustManager(ours.ca().toFile())
                .keyManager(other.clientCert().toFile(), other.clientKey().toFile()).build()));
        ChatClient withCert = client(worker, cluster.local().clientCredentials());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> withCert.blocking()
                .getSession(GetSessionRequest.newBuilder().setSessionId("tls-none").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "past the handshake: the worker answers");
        assertTrue(withCert.blocking().listSessions(ListSessionsRequest.getDefaultInstance()) != null);
    }
}

package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.DrainWorkerRequest;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.cluster.auth.BearerToken;
import dev.warmroute.cluster.auth.TokenFile;
import dev.warmroute.testing.Await;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Date;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication with real processes: a router and two workers started with {@code --auth-tokens} (the token file
 * {@code cluster up --auth} makes) and {@code --auth-jwt-secret}, on 127.0.0.1. Every refusal is checked for its
 * status, its words, and that nothing changed; the owner's own calls go on warm afterwards.
 */
class AuthThroughRouterTest {

    private static final byte[] SECRET = "an HMAC secret of at least thirty-two bytes".getBytes(StandardCharsets.UTF_8);

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String aliceToken;
    private static String opsToken;

    @BeforeAll
    static void start() throws Exception {
        Path secret = dir.resolve("jwt-secret");
        Files.write(secret, SECRET);
        cluster = TestCluster.start(dir.resolve("cluster"), 2, b -> b.auth(true).httpPort(0)
                .extraWorkerArgs(java.util.List.of("--auth-jwt-secret", secret.toString()))
                .extraRouterArgs(java.util.List.of("--auth-jwt-secret", secret.toString())).router("r1"));
        aliceToken = TokenFile.newToken();
        opsToken = TokenFile.newToken();
        Files.writeString(cluster.local().tokenFile(), TokenFile.hashLine(aliceToken, "alice", false) + "\n"
                + TokenFile.hashLine(opsToken, "ops", true) + "\n", StandardOpenOption.APPEND);
        // Token files are re-read within a second of a change, on the next call: wait until alice's works.
        try (ChatClient alice = router(BearerToken.headers(aliceToken))) {
            Await.until(() -> {
                try {
                    alice.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(1).build());
                    return true;
                } catch (StatusRuntimeException e) {
                    return false;
                }
            }, Duration.ofSeconds(20), "the router re-reads the token file");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ChatClient router(Metadata headers) {
        return cluster.track(new ChatClient(cluster.router("r1").grpcAddress(), headers));
    }

    private static ChatClient worker(String id, Metadata headers) {
        return cluster.track(new ChatClient(cluster.worker(id).grpcAddress(), headers));
    }

    private static String jwt(String subject, boolean admin, Date expires, byte[] key) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(subject).expirationTime(expires)
                .claim("warmroute_admin", admin).build();
        SignedJWT token = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        token.sign(new MACSigner(key));
        return token.serialize();
    }

    private static Date inAnHour() {
        return new Date(System.currentTimeMillis() + 3_600_000);
    }

    private static void refused(Status.Code code, String words, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.toString());
        assertTrue(e.getStatus().getDescription().contains(words), e.getStatus().getDescription());
    }

    private static void refusedEverywhere(Metadata headers, String words) {
        ChatClient c = router(headers);
        refused(Status.Code.UNAUTHENTICATED, words, () -> c.blocking().listSessions(ListSessionsRequest.getDefaultInstance()));
        refused(Status.Code.UNAUTHENTICATED, words, () -> c.blocking().createSession(
                CreateSessionRequest.newBuilder().setSessionId("never-" + Math.abs(words.hashCode())).build()));
        ChatClient.Reply send = c.send(ChatClient.message("never", "r1", "Hello."));
        assertEquals(Status.Code.UNAUTHENTICATED, send.status().getCode(), send.toString());
        refused(Status.Code.UNAUTHENTICATED, words, () -> c.admin().getClusterStatus(
                GetClusterStatusRequest.getDefaultInstance()));
    }

    @Test
    void callsWithoutAValidTokenAreUnauthenticatedAndCreateNothing() throws Exception {
        refusedEverywhere(new Metadata(), "authorization: missing");
        refusedEverywhere(BearerToken.headers("wr_not-a-token-of-this-cluster"), "unknown token");
        Metadata basic = new Metadata();
        basic.put(dev.warmroute.cluster.CallerIdentity.AUTHORIZATION, "Basic YWxpY2U6c2VjcmV0");
        refusedEverywhere(basic, "must be 'Bearer TOKEN'");
        refusedEverywhere(BearerToken.headers(jwt("alice", false, new Date(System.currentTimeMillis() - 120_000),
                SECRET)), "Expired");
        refusedEverywhere(BearerToken.headers(jwt("alice", true, inAnHour(),
                "another secret, also of thirty-two bytes or more".getBytes(StandardCharsets.UTF_8))), "signature");
        // A self-named owner is no identity when tokens are required.
        Metadata named = new Metadata();
        named.put(CallMetadata.OWNER, "alice");
        refusedEverywhere(named, "authorization: missing");
        ChatClient ops = router(BearerToken.headers(opsToken));
        assertTrue(ops.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(50).build())
                .getSessionsList().stream().noneMatch(s -> s.getSessionId().startsWith("never")), "nothing created");
    }

    @Test
    void anotherPrincipalsSessionIsNotFoundWhateverTheCallAndStaysWarm() throws Exception {
        ChatClient alice = router(BearerToken.headers(aliceToken));
        ChatClient bob = router(BearerToken.headers(jwt("bob", false, inAnHour(), SECRET)));
        alice.create("auth-own", ChatClient.sampling(0f, 5, 6));
        alice.send(ChatClient.message("auth-own", "a1", "Hello.")).assertContinuous();
        TurnComplete warm = alice.send(ChatClient.message("auth-own", "a2", "Go on.")).assertContinuous().complete();
        assertEquals(CacheStatus.CACHE_STATUS_WARM, warm.getCache().getStatus());
        assertEquals("alice", alice.get("auth-own").getOwner(), "the token's principal owns the session");

        refused(Status.Code.NOT_FOUND, "auth-own", () -> bob.blocking().getSession(
                GetSessionRequest.newBuilder().setSessionId("auth-own").build()));
        assertEquals(Status.Code.NOT_FOUND, bob.send(ChatClient.message("auth-own", "b1", "Mine now.")).status()
                .getCode());
        refused(Status.Code.NOT_FOUND, "auth-own", () -> bob.blocking().deleteSession(
                DeleteSessionRequest.newBuilder().setSessionId("auth-own").build()));
        assertTrue(bob.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(50).build())
                .getSessionsList().isEmpty(), "bob has no sessions");
        // Naming alice in the header with bob's token is refused outright.
        Metadata forged = BearerToken.headers(jwt("bob", false, inAnHour(), SECRET));
        forged.put(CallMetadata.OWNER, "alice");
        refused(Status.Code.PERMISSION_DENIED, "the token is bob's", () -> router(forged).blocking().getSession(
                GetSessionRequest.newBuilder().setSessionId("auth-own").build()));

        TurnComplete next = alice.send(ChatClient.message("auth-own", "a3", "And then?")).assertContinuous().complete();
        assertEquals(CacheStatus.CACHE_STATUS_WARM, next.getCache().getStatus(), next.toString());
        assertEquals(warm.getWorkerId(), next.getWorkerId());
        assertEquals(3, next.getVersion());
    }

    @Test
    void theHttpFrontPassesTheBearerTokenThrough() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String body = "{\"model\": \"" + cluster.local().modelId() + "\", \"max_tokens\": 4, \"messages\":"
                + " [{\"role\": \"user\", \"content\": \"Hello.\"}]}";
        java.util.function.Function<String, java.net.http.HttpResponse<String>> post = token -> {
            var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(cluster.router("r1").httpAddress()
                    + "/v1/chat/completions")).header("content-type", "application/json")
                    .header("x-session-id", "auth-http").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            try {
                return http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        var anonymous = post.apply(null);
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.body().contains("authorization: missing"), anonymous.body());
        var alice = post.apply(aliceToken);
        assertEquals(200, alice.statusCode(), alice.body());
        assertEquals("alice", router(BearerToken.headers(aliceToken)).get("auth-http").getOwner());
        var bob = post.apply(jwt("bob", false, inAnHour(), SECRET));
        assertTrue(bob.statusCode() == 404 || bob.statusCode() == 409, bob.statusCode() + " " + bob.body());
    }

    @Test
    void adminCallsNeedAnAdminPrincipal() throws Exception {
        ChatClient alice = router(BearerToken.headers(aliceToken));
        refused(Status.Code.PERMISSION_DENIED, "needs an admin principal; 'alice' is not one",
                () -> alice.admin().drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("w1").build()));
        refused(Status.Code.PERMISSION_DENIED, "needs an admin principal",
                () -> alice.admin().getClusterStatus(GetClusterStatusRequest.getDefaultInstance()));
        ChatClient ops = router(BearerToken.headers(opsToken));
        ClusterStatus s = ops.admin().getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        assertTrue(s.getWorkersList().stream().noneMatch(WorkerStatus::getDraining), "alice's drain changed nothing");
        ChatClient jwtAdmin = router(BearerToken.headers(jwt("root", true, inAnHour(), SECRET)));
        assertEquals(2, jwtAdmin.admin().getClusterStatus(GetClusterStatusRequest.getDefaultInstance())
                .getWorkersCount());
    }

    @Test
    void aWorkerServesClientsOnlyWithATokenAndTrustsOnlyTheClustersCredential() throws Exception {
        ChatClient alice = router(BearerToken.headers(aliceToken));
        alice.create("auth-direct", ChatClient.sampling(0f, 6, 4));
        refused(Status.Code.UNAUTHENTICATED, "authorization: missing", () -> worker("w1", new Metadata()).blocking()
                .getSession(GetSessionRequest.newBuilder().setSessionId("auth-direct").build()));
        Metadata forged = new Metadata();
        forged.put(CallMetadata.OWNER, "alice");
        forged.put(InternalCredential.METADATA_KEY, "0123456789abcdef0123456789abcdef0123456789abcdef");
        refused(Status.Code.UNAUTHENTICATED, "authorization: missing", () -> worker("w2", forged).blocking()
                .getSession(GetSessionRequest.newBuilder().setSessionId("auth-direct").build()));
        Supplier<ChatClient> direct = () -> worker("w2", BearerToken.headers(aliceToken));
        assertEquals("alice", direct.get().get("auth-direct").getOwner(), "a valid token works on a worker too");
        assertFalse(cluster.local().devToken().isEmpty());
    }
}

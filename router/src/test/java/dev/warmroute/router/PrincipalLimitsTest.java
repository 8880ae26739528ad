package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ListSessionsResponse;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.testing.Await;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-principal limits at a real router ({@code --limit-calls-per-second 10 --limit-turns 1}) in front of a real
 * worker: a principal over a limit is refused with RESOURCE_EXHAUSTED naming the limit and a retry-after trailer,
 * other principals are not, and a turn's slot is given back when it ends.
 */
class PrincipalLimitsTest {

    @TempDir
    static Path dir;

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(dir.resolve("cluster"), 1, b -> b.router("r1", "--limit-calls-per-second", "10",
                "--limit-turns", "1", "--worker-window-kb", "1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ChatClient as(String owner) {
        Metadata m = new Metadata();
        m.put(CallMetadata.OWNER, owner);
        return cluster.track(new ChatClient(cluster.router("r1").grpcAddress(), m));
    }

    @Test
    void callsOverTheRateAreRefusedWithRetryAfterAndOtherPrincipalsAreNot() throws Exception {
        // 50 calls sent at once by one principal (anonymous: no header) against 10 a second.
        var stub = ChatServiceGrpc.newFutureStub(cluster.track(new ChatClient(cluster.router("r1").grpcAddress()))
                .channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
        List<ListenableFuture<ListSessionsResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add(stub.listSessions(ListSessionsRequest.getDefaultInstance()));
        }
        List<StatusRuntimeException> refused = new ArrayList<>();
        for (ListenableFuture<ListSessionsResponse> f : calls) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                refused.add((StatusRuntimeException) e.getCause());
            }
        }
        assertTrue(refused.size() >= 20, refused.size() + " of 50 refused");
        for (StatusRuntimeException e : refused) {
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().startsWith("calls per second: 'anonymous' may make 10"
                    + " ChatService calls per second (--limit-calls-per-second)"), e.getStatus().getDescription());
            assertEquals("1", e.getTrailers().get(CallMetadata.RETRY_AFTER));
        }
        // Another principal has limiters of its own.
        as("calm").blocking().listSessions(ListSessionsRequest.getDefaultInstance());
    }

    @Test
    void aSecondTurnAtOnceIsRefusedAndTheSlotIsGivenBackWhenTheFirstEnds() throws Exception {
        Metadata m = new Metadata();
        m.put(CallMetadata.OWNER, "turns-alice");
        // A tiny window on both sides of the router: while its client reads nothing, the first turn cannot end.
        ChatClient alice = cluster.track(ChatClient.withWindow(cluster.router("r1").grpcAddress(), m, 1024));
        alice.create("lim-1", ChatClient.sampling(0f, 1, 200));
        alice.create("lim-2", ChatClient.sampling(0f, 2, 4));
        // The first turn holds its slot while its client reads nothing past the first event.
        ChatClient.Paused first = alice.sendPaused(ChatClient.message("lim-1", "p1", "Tell me a long story."), 1);
        Await.until(() -> !first.events().isEmpty(), Duration.ofSeconds(60), "the first turn started");
        ChatClient.Reply second = alice.send(ChatClient.message("lim-2", "p2", "Hello."));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, second.status().getCode(), second.toString());
        assertTrue(second.status().getDescription().startsWith("concurrent turns: 'turns-alice' has 1 turns running,"
                + " the limit (--limit-turns)"), second.status().getDescription());
        assertEquals(0, alice.get("lim-2").getVersion(), "the refused turn wrote nothing");
        first.resume();
        assertTrue(first.result().get(120, TimeUnit.SECONDS).ok());
        alice.send(ChatClient.message("lim-2", "p3", "Hello again.")).assertContinuous();
    }
}

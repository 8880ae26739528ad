package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.DeleteSessionResponse;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another owner's session through a real router and real worker JVMs: every call on it answers as for an id that
 * does not exist, and none of them changes anything of the owner's (history, binding, warm cache). Before, a
 * DeleteSession by anyone unbound the session in the router and dropped its cache on the worker (anyone could force
 * any session cold by id), and CreateSession said "taken by another owner".
 */
class OwnershipThroughRouterTest {

    @TempDir
    Path dir;

    private TestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private ChatClient as(String owner) {
        Metadata m = new Metadata();
        m.put(CallMetadata.OWNER, owner);
        return cluster.track(new ChatClient(cluster.router("r1").grpcAddress(), m));
    }

    @Test
    void anotherOwnersCallsOnASessionChangeNothingAndRevealNothing() throws Exception {
        cluster = TestCluster.start(dir, 2, b -> b.router("r1"));
        ChatClient alice = as("alice");
        ChatClient bob = as("bob");
        alice.create("own-1", ChatClient.sampling(0f, 11, 6));
        ChatClient.Reply first = alice.send(ChatClient.message("own-1", "a1", "Hello.")).assertContinuous();
        ChatClient.Reply second = alice.send(ChatClient.message("own-1", "a2", "Go on.")).assertContinuous();
        assertEquals(CacheStatus.CACHE_STATUS_WARM, second.complete().getCache().getStatus());
        String worker = second.complete().getWorkerId();

        StatusRuntimeException get = assertThrows(StatusRuntimeException.class, () -> bob.blocking()
                .getSession(GetSessionRequest.newBuilder().setSessionId("own-1").build()));
        assertEquals(Status.Code.NOT_FOUND, get.getStatus().getCode());
        StatusRuntimeException getMissing = assertThrows(StatusRuntimeException.class, () -> bob.blocking()
                .getSession(GetSessionRequest.newBuilder().setSessionId("never-created").build()));
        assertEquals(getMissing.getStatus().getDescription().replace("never-created", "ID"),
                get.getStatus().getDescription().replace("own-1", "ID"),
                "another owner's session and no session read the same");

        ChatClient.Reply send = bob.send(ChatClient.message("own-1", "b1", "Let me in."));
        assertEquals(Status.Code.NOT_FOUND, send.status().getCode(), send.toString());

        StatusRuntimeException delete = assertThrows(StatusRuntimeException.class, () -> bob.blocking()
                .deleteSession(DeleteSessionRequest.newBuilder().setSessionId("own-1").build()));
        assertEquals(Status.Code.NOT_FOUND, delete.getStatus().getCode());
        DeleteSessionResponse allowMissing = bob.blocking().deleteSession(DeleteSessionRequest.newBuilder()
                .setSessionId("own-1").setAllowMissing(true).build());
        assertFalse(allowMissing.getDeleted());

        assertTrue(bob.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(50).build())
                .getSessionsList().stream().noneMatch(s -> s.getSessionId().equals("own-1")));

        StatusRuntimeException create = assertThrows(StatusRuntimeException.class, () -> bob.blocking()
                .createSession(CreateSessionRequest.newBuilder().setSessionId("own-1").setAllowExisting(true).build()));
        assertEquals(Status.Code.ALREADY_EXISTS, create.getStatus().getCode());
        StatusRuntimeException ownCreate = assertThrows(StatusRuntimeException.class, () -> alice.blocking()
                .createSession(CreateSessionRequest.newBuilder().setSessionId("own-1").build()));
        assertEquals(ownCreate.getStatus().getDescription(), create.getStatus().getDescription(),
                "the same words whoever holds the id");
        assertFalse(create.getStatus().getDescription().toLowerCase(Locale.ROOT).contains("owner"),
                create.getStatus().getDescription());

        // Nothing of alice's moved: the history has her two turns, and her next turn is warm on the same worker.
        Session s = alice.get("own-1");
        assertEquals(2, s.getTurnCount());
        TurnComplete third = alice.send(ChatClient.message("own-1", "a3", "And then?")).assertContinuous().complete();
        assertEquals(CacheStatus.CACHE_STATUS_WARM, third.getCache().getStatus(), third.toString());
        assertEquals(worker, third.getWorkerId());
        assertEquals(3, third.getVersion());
        assertEquals(first.complete().getWorkerId(), worker);

        // Her own delete does remove it, through the same router.
        assertTrue(alice.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId("own-1").build())
                .getDeleted());
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions per owner and in all, and turns per session, on a real worker with small limits (3 per owner, 5 in all,
 * 2 turns): refused with RESOURCE_EXHAUSTED naming the limit and its flag, nothing written, and what the limits
 * must not stop (allow_existing, the replay of a committed turn) still works.
 */
class SessionLimitsTest {

    // A cluster of its own for each test: the counts of one test must not depend on what another left behind.
    private InProcessCluster<WorkerServer> cluster;
    private WorkerServer worker;

    @BeforeEach
    void start() throws Exception {
        cluster = TestWorkers.cluster();
        worker = TestWorkers.add(cluster, b -> b.limits(new SessionLimits(3, 5, 2)));
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private ChatClient as(String owner) {
        return new ChatClient(worker.address(), SessionsTest.owner(owner));
    }

    private static StatusRuntimeException refusedCreate(ChatClient c, String id) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> c.blocking().createSession(
                CreateSessionRequest.newBuilder().setSessionId(id).build()));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
        return e;
    }

    @Test
    void sessionsOverTheOwnersAndTheClustersLimitAreRefused() {
        try (ChatClient alice = as("lim-alice"); ChatClient bob = as("lim-bob"); ChatClient carol = as("lim-carol")) {
            for (int i = 0; i < 3; i++) {
                alice.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("la-" + i).build());
            }
            StatusRuntimeException mine = refusedCreate(alice, "la-3");
            assertTrue(mine.getStatus().getDescription().startsWith("sessions: owner 'lim-alice' holds 3 sessions,"
                    + " the limit (--max-sessions-per-owner 3)"), mine.getStatus().getDescription());
            assertEquals(3, alice.blocking().listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsCount());
            // An existing session is not a new one: allow_existing still answers it.
            assertEquals("la-0", alice.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("la-0")
                    .setAllowExisting(true).build()).getSessionId());

            bob.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("lb-0").build());
            bob.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("lb-1").build());
            StatusRuntimeException all = refusedCreate(carol, "lc-0");
            assertTrue(all.getStatus().getDescription().startsWith("sessions: the cluster holds 5 sessions, the limit"
                    + " (--max-sessions 5)"), all.getStatus().getDescription());
            assertEquals(0, carol.blocking().listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsCount());
        }
    }

    @Test
    void aTurnBeyondTheSessionsTurnLimitIsRefusedAndItsRetryIsStillAReplay() {
        try (ChatClient alice = as("lim-alice")) {
            String id = "la-0";
            alice.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId(id)
                    .setSettings(ChatClient.greedy(4)).build());
            alice.ok(ChatClient.message(id, "t0", "Hello."));
            alice.ok(ChatClient.message(id, "t1", "Hello."));
            ChatClient.Reply refused = alice.send(ChatClient.message(id, "t-over", "One more."));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode(), refused.toString());
            assertTrue(refused.status().getDescription().startsWith("session_id: 'la-0' holds 2 turns, the limit"
                    + " (--max-session-turns 2)"), refused.status().getDescription());
            assertEquals(2, alice.get(id).getVersion(), "nothing written");
            ChatClient.Reply replay = alice.send(ChatClient.message(id, "t1", "Hello."));
            assertTrue(replay.ok() && replay.complete().getReplayed(), replay.toString());
        }
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ListSessionsResponse;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CreateSession, GetSession, ListSessions and DeleteSession, per owner, on a real worker. */
class SessionsTest {

    private static InProcessCluster<WorkerServer> cluster;
    private static WorkerServer worker;
    private static ChatClient alice;
    private static ChatClient bob;

    static Metadata owner(String name) {
        Metadata m = new Metadata();
        m.put(CallMetadata.OWNER, name);
        return m;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = TestWorkers.cluster();
        worker = TestWorkers.add(cluster);
        alice = new ChatClient(worker.address(), owner("alice@example"));
        bob = new ChatClient(worker.address(), owner("bob"));
    }

    @AfterAll
    static void stop() {
        for (ChatClient c : new ChatClient[] {alice, bob}) {
            if (c != null) {
                c.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void createsWithServerDefaultsAndAllowExistingReturnsTheSameSession() {
        Session s = alice.blocking().createSession(CreateSessionRequest.newBuilder().setSystemPrompt("Be kind.").build());
        assertTrue(s.getSessionId().startsWith("s-"));
        assertEquals("alice@example", s.getOwner());
        assertEquals(worker.modelId(), s.getModelId());
        SessionSettings st = s.getSettings();
        assertEquals(2048, st.getContextBudgetTokens(), "0 = the model's context length");
        assertEquals(PruningPolicy.PRUNING_POLICY_WATERMARK, st.getPruningPolicy());
        assertEquals(75, st.getLowWatermarkPercent());
        assertTrue(st.getSampling().hasSeed(), "the server picks and stores a seed");
        assertEquals(0.8f, st.getSampling().getTemperature());
        assertEquals(0.95f, st.getSampling().getTopP());
        assertEquals(256, st.getSampling().getMaxTokens());
        assertTrue(s.getWindowTokens() > 0);

        Session again = alice.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId(s.getSessionId())
                .setAllowExisting(true).setSystemPrompt("ignored").build());
        assertEquals(s.getSettings(), again.getSettings());
        assertEquals("Be kind.", again.getSystemPrompt(), "allow_existing leaves the session unchanged");

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> bob.blocking().createSession(
                CreateSessionRequest.newBuilder().setSessionId(s.getSessionId()).setAllowExisting(true).build()));
        assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
    }

    @Test
    void getsMessagesOnlyForTheOwner() {
        alice.create("crud-get", "You are terse.", ChatClient.greedy(8));
        alice.ok(ChatClient.message("crud-get", "g1", "Hi."));
        Session s = alice.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("crud-get")
                .setIncludeMessages(true).build());
        assertEquals(1, s.getTurnCount());
        assertEquals(3, s.getMessagesCount());
        assertEquals(Role.ROLE_SYSTEM, s.getMessages(0).getRole());
        assertEquals(-1, s.getMessages(0).getTurnIndex());
        assertEquals("Hi.", s.getMessages(1).getContent());
        assertEquals(Role.ROLE_ASSISTANT, s.getMessages(2).getRole());
        assertEquals(8, s.getMessages(2).getTokenCount());
        assertTrue(s.getMessages(2).getInWindow());

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> bob.blocking().getSession(
                GetSessionRequest.newBuilder().setSessionId("crud-get").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        ChatClient.Reply t = bob.send(ChatClient.message("crud-get", "b1", "Let me in."));
        assertEquals(Status.Code.NOT_FOUND, t.status().getCode(), "another owner's session does not exist for bob");
    }

    @Test
    void listsOwnSessionsMostRecentFirstInPages() {
        try (ChatClient carol = new ChatClient(worker.address(), owner("carol"))) {
            for (int i = 0; i < 5; i++) {
                carol.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("list-" + i).build());
            }
            carol.create("list-x", "", ChatClient.greedy(4));
            carol.ok(ChatClient.message("list-x", "x", "Hello."));
            List<String> seen = new ArrayList<>();
            String token = "";
            do {
                ListSessionsResponse page = carol.blocking().listSessions(ListSessionsRequest.newBuilder()
                        .setPageSize(2).setPageToken(token).build());
                assertTrue(page.getSessionsCount() <= 2);
                page.getSessionsList().forEach(s -> seen.add(s.getSessionId()));
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            assertEquals(6, seen.size(), seen.toString());
            assertEquals("list-x", seen.get(0), "most recently updated first");
            assertEquals(6, seen.stream().distinct().count());
            assertTrue(seen.stream().allMatch(id -> id.startsWith("list-")), "only carol's sessions");
        }
    }

    @Test
    void deletesOnlyOwnSessionsAndAllowMissing() {
        alice.create("crud-del", "", SessionSettings.newBuilder()
                .setSampling(SamplingParams.newBuilder().setMaxTokens(4)).build());
        alice.ok(ChatClient.message("crud-del", "d1", "Hello."));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> bob.blocking().deleteSession(
                DeleteSessionRequest.newBuilder().setSessionId("crud-del").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(alice.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId("crud-del").build())
                .getDeleted());
        assertFalse(alice.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId("crud-del")
                .setAllowMissing(true).build()).getDeleted());
        e = assertThrows(StatusRuntimeException.class, () -> alice.blocking().deleteSession(
                DeleteSessionRequest.newBuilder().setSessionId("crud-del").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND, alice.send(ChatClient.message("crud-del", "d2", "Hi?")).status().getCode());
    }
}

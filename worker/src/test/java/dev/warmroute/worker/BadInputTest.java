package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.RawBytes;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every bad input gets its status code and a message naming the field and the limit, and nothing is written: the
 * session stays at version 0 after all of them.
 */
class BadInputTest {

    private static InProcessCluster<WorkerServer> cluster;
    private static WorkerServer worker;
    private static ChatClient client;
    private static final String SESSION = "bad-input";

    @BeforeAll
    static void start() throws Exception {
        cluster = TestWorkers.cluster();
        worker = TestWorkers.add(cluster);
        client = new ChatClient(worker.address());
        client.create(SESSION, "Be brief.", SessionSettings.newBuilder().setContextBudgetTokens(128)
                .setSampling(SamplingParams.newBuilder().setTemperature(0).setMaxTokens(32)).build());
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static SendMessageRequest valid() {
        return ChatClient.message(SESSION, "", "Hello.");
    }

    private static void rejects(Status.Code code, String messageStart, UnaryOperator<SendMessageRequest.Builder> edit) {
        ChatClient.Reply t = client.send(edit.apply(valid().toBuilder()).build());
        assertEquals(code, t.status().getCode(), t.status().toString());
        assertTrue(t.status().getDescription().startsWith(messageStart),
                "expected '" + messageStart + "...', got: " + t.status().getDescription());
        assertEquals(null, t.started(), "rejected before the turn started");
    }

    @Test
    void rejectsEachBadFieldNamingItAndWritesNothing() {
        rejects(Status.Code.INVALID_ARGUMENT, "message.content: must not be empty",
                b -> b.setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER)));
        rejects(Status.Code.INVALID_ARGUMENT, "message.content: 32769 bytes exceeds the limit of 32768 bytes",
                b -> b.setMessage(ChatMessage.newBuilder().setContent("x".repeat(32769))));
        rejects(Status.Code.INVALID_ARGUMENT, "message: required", SendMessageRequest.Builder::clearMessage);
        rejects(Status.Code.INVALID_ARGUMENT, "session_id: must be 1 to 128 characters of [A-Za-z0-9._:-]",
                b -> b.setSessionId("no spaces allowed"));
        rejects(Status.Code.INVALID_ARGUMENT, "session_id: must be 1 to 128 characters",
                b -> b.setSessionId("s".repeat(129)));
        rejects(Status.Code.INVALID_ARGUMENT, "session_id: required", b -> b.setSessionId(""));
        rejects(Status.Code.INVALID_ARGUMENT, "request_id: must be 1 to 128 characters",
                b -> b.setRequestId("bad/id"));
        rejects(Status.Code.NOT_FOUND, "session 'no-such-session' does not exist",
                b -> b.setSessionId("no-such-session"));
        rejects(Status.Code.INVALID_ARGUMENT, "message.role: only ROLE_USER may be sent, got ROLE_ASSISTANT",
                b -> b.setMessage(b.getMessage().toBuilder().setRole(Role.ROLE_ASSISTANT)));
        rejects(Status.Code.INVALID_ARGUMENT, "message.role: only ROLE_USER may be sent, got ROLE_SYSTEM",
                b -> b.setMessage(b.getMessage().toBuilder().setRole(Role.ROLE_SYSTEM)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.max_tokens: 0 is outside [1, 4096]",
                b -> b.setSampling(SamplingParams.newBuilder().setMaxTokens(0)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.max_tokens: 4097 is outside [1, 4096]",
                b -> b.setSampling(SamplingParams.newBuilder().setMaxTokens(4097)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.temperature: 2.5 is outside [0, 2.0]",
                b -> b.setSampling(SamplingParams.newBuilder().setTemperature(2.5f)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.temperature: -0.1 is outside [0, 2.0]",
                b -> b.setSampling(SamplingParams.newBuilder().setTemperature(-0.1f)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.temperature: NaN is outside",
                b -> b.setSampling(SamplingParams.newBuilder().setTemperature(Float.NaN)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.top_p: 0.0 is outside (0, 1]",
                b -> b.setSampling(SamplingParams.newBuilder().setTopP(0f)));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.top_p: 1.5 is outside (0, 1]",
                b -> b.setSampling(SamplingParams.newBuilder().setTopP(1.5f)));
        rejects(Status.Code.INVALID_ARGUMENT, "resume: set by the router only",
                b -> b.setResume(ResumeState.newBuilder().addTokenIds(5).setText("x")));
        // Within the session's budget of 128 tokens: the message plus answer room cannot fit even alone.
        rejects(Status.Code.RESOURCE_EXHAUSTED, "message.content: does not fit the context even alone",
                b -> b.setMessage(ChatMessage.newBuilder().setContent("a long story about many things ".repeat(20))));
        rejects(Status.Code.INVALID_ARGUMENT, "sampling.max_tokens: 200 exceeds the session's context budget of 128",
                b -> b.setSampling(SamplingParams.newBuilder().setMaxTokens(200)));

        Session s = client.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(SESSION).build());
        assertEquals(0, s.getVersion(), "nothing written");
        assertEquals(0, s.getTurnCount());
        // And a valid turn still works.
        assertTrue(client.send(valid()).ok());
    }

    @Test
    void rejectsInvalidUtf8NamingTheField() {
        byte[] bad = LenientRequestMarshallerTest.invalidUtf8Request(SESSION);
        MethodDescriptor<byte[], byte[]> raw = RawBytes.of(ChatServiceGrpc.getSendMessageMethod());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls
                .blockingServerStreamingCall(client.channel(), raw, CallOptions.DEFAULT, bad).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("message.content: not valid UTF-8", e.getStatus().getDescription());
        Session s = client.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(SESSION).build());
        assertTrue(s.getTurnCount() <= 1, "no turn from the invalid request");
    }

    @Test
    void rejectsBadSessionSettingsAndOwners() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.blocking().createSession(
                CreateSessionRequest.newBuilder().setSettings(SessionSettings.newBuilder()
                        .setContextBudgetTokens(10)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("settings.context_budget_tokens: 10 is outside"));

        e = assertThrows(StatusRuntimeException.class, () -> client.blocking().createSession(CreateSessionRequest
                .newBuilder().setSettings(SessionSettings.newBuilder().setLowWatermarkPercent(99)).build()));
        assertTrue(e.getStatus().getDescription().startsWith("settings.low_watermark_percent: 99 is outside"));

        e = assertThrows(StatusRuntimeException.class, () -> client.blocking().createSession(CreateSessionRequest
                .newBuilder().setSessionId(SESSION).build()));
        assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());

        e = assertThrows(StatusRuntimeException.class, () -> client.blocking().listSessions(ListSessionsRequest
                .newBuilder().setPageSize(501).build()));
        assertTrue(e.getStatus().getDescription().startsWith("page_size: 501 is outside"));
        e = assertThrows(StatusRuntimeException.class, () -> client.blocking().listSessions(ListSessionsRequest
                .newBuilder().setPageToken("forged").build()));
        assertTrue(e.getStatus().getDescription().startsWith("page_token: not issued by this service"));

        Metadata badOwner = new Metadata();
        badOwner.put(CallMetadata.OWNER, "spaces are not allowed");
        try (ChatClient other = new ChatClient(worker.address(), badOwner)) {
            e = assertThrows(StatusRuntimeException.class, () -> other.blocking().getSession(
                    GetSessionRequest.newBuilder().setSessionId(SESSION).build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().startsWith("x-warmroute-owner: must be"));
        }
    }
}

package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.RawBytes;
import dev.warmroute.testing.TestCluster;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-input corpus (issue 13): one table of malformed and abusive requests, each sent to a real router in
 * front of two real worker JVMs (and, for the HTTP cases, to the router's OpenAI-compatible front), each with the
 * status it must get and the words its message must hold (the field, and the limit where there is one). After every
 * case: the status is never UNKNOWN, the message is one line with no stack trace, nothing changed (the owner's
 * session is still at version 1 with one turn, no session appeared for the owner or for anonymous callers), and the
 * servers still serve (a normal turn through the router, the HTTP front's health). The cases that race the servers
 * (a 1 ms deadline, a cancel mid-answer) check "nothing written" deterministically: the next turn of the same session
 * must be its turn 0.
 *
 * <p>One cluster for the whole corpus; every case is a row of {@link #corpus()}. Failures are collected, so one run
 * reports every case that broke.
 */
class HostileInputTest {

    private static final String OWNER = "hostile";
    private static final String BASE = "hostile-base";
    private static final int BASE_BUDGET = 128;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String router;
    private static String http;
    private static String model;
    /** The owner of BASE and of one more session. */
    private static ChatClient owner;
    /** No x-warmroute-owner: the anonymous caller, who owns nothing. */
    private static ChatClient anonymous;
    /** The canary's own owner: a normal turn after every case. */
    private static ChatClient canary;
    /** A page token issued to OWNER (page 1 of 2). */
    private static String ownersPageToken;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(dir, 2, b -> b.router("r1").httpPort(0)
                .extraWorkerArgs(List.of("--max-sessions-per-owner", "250")));
        router = cluster.router("r1").grpcAddress();
        http = cluster.router("r1").httpAddress();
        model = cluster.local().modelId();
        owner = as(OWNER);
        anonymous = cluster.clientOf("r1");
        canary = as("canary");
        owner.create(BASE, "Be brief.", SessionSettings.newBuilder().setContextBudgetTokens(BASE_BUDGET)
                .setSampling(ChatClient.sampling(0, 7, 8)).build());
        owner.send(ChatClient.message(BASE, "base-1", "Hello.")).assertContinuous();
        owner.create("hostile-other", ChatClient.sampling(0, 7, 4));
        ownersPageToken = owner.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(1).build())
                .getNextPageToken();
        assertTrue(!ownersPageToken.isEmpty(), "two sessions, pages of one: a next page");
        canary.create("canary", ChatClient.sampling(0, 7, 2));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ChatClient as(String who) {
        Metadata m = new Metadata();
        m.put(CallMetadata.OWNER, who);
        return cluster.track(new ChatClient(router, m));
    }

    private static ChatClient withHeaders(Map<Metadata.Key<String>, String> headers) {
        Metadata m = new Metadata();
        headers.forEach(m::put);
        return cluster.track(new ChatClient(router, m));
    }

    // ---- the table ----

    /** What a case got: a gRPC status code name ("INVALID_ARGUMENT", "OK") or "HTTP 400", and the message. */
    record Outcome(String code, String message) {
        static Outcome of(Status s) {
            return new Outcome(s.getCode().name(), s.getDescription() == null ? "" : s.getDescription());
        }

        static Outcome ok() {
            return new Outcome("OK", "");
        }
    }

    /**
     * One hostile request: its name, how it is sent, the code it must get (chat.proto's error model) and the words its
     * message must hold. {@code today}, when set, is the code the servers answer instead, a known bug named in
     * {@code bug}: the case then requires that code (and the words), and fails once the bug is fixed, so that the row
     * is corrected rather than forgotten.
     */
    record Case(String name, Supplier<Outcome> send, String code, List<String> words, String today, String bug) {
        @Override
        public String toString() {
            return name;
        }

        /** The same case, answered today with {@code code} because of {@code bug}. */
        Case knownBug(String code, String bug) {
            return new Case(name, send, this.code, words, code, bug);
        }
    }

    private static Case c(String name, String code, List<String> words, Supplier<Outcome> send) {
        return new Case(name, send, code, words, null, null);
    }

    private static final String INVALID = "INVALID_ARGUMENT";
    private static final String ID_RULE = "1 to 128 characters of [A-Za-z0-9._:-]";

    private static List<Case> corpus() {
        List<Case> t = new ArrayList<>();
        // Sizes.
        t.add(c("content one byte over the limit", INVALID, List.of("message.content", "32769 bytes", "32768"),
                () -> send(owner, b -> b.setMessage(user("x".repeat(32769))))));
        t.add(c("content of 1 MiB", INVALID, List.of("message.content", "1048576 bytes", "32768"),
                () -> send(owner, b -> b.setMessage(user("y".repeat(1 << 20))))));
        t.add(c("content of multi-byte characters: bytes count, not characters", INVALID,
                List.of("message.content", "32769 bytes", "32768"),
                () -> send(owner, b -> b.setMessage(user("€".repeat(10923))))));
        t.add(c("a request over gRPC's 4 MiB message limit", "RESOURCE_EXHAUSTED", List.of("4194304"),
                () -> send(owner, b -> b.setMessage(user("z".repeat(5 << 20))))));
        t.add(c("empty content", INVALID, List.of("message.content", "must not be empty", "32768"),
                () -> send(owner, b -> b.setMessage(user("")))));
        t.add(c("no message", INVALID, List.of("message", "required"),
                () -> send(owner, SendMessageRequest.Builder::clearMessage)));
        t.add(c("system prompt one byte over the limit", INVALID, List.of("system_prompt", "32769 bytes", "32768"),
                () -> create(owner, b -> b.setSessionId("h-sys").setSystemPrompt("s".repeat(32769)))));
        t.add(c("system prompt leaving no room for a turn in its budget", INVALID,
                List.of("system_prompt", "context budget 64", "no room for a turn"),
                () -> create(owner, b -> b.setSessionId("h-sys2").setSystemPrompt("Once upon a time ".repeat(40))
                        .setSettings(SessionSettings.newBuilder().setContextBudgetTokens(64)))));
        t.add(c("message that cannot fit the session's context even alone", "RESOURCE_EXHAUSTED",
                List.of("message.content", "does not fit the context even alone", "context budget " + BASE_BUDGET),
                () -> send(owner, b -> b.setMessage(user("a long story about many things ".repeat(40))))));
        t.add(c("3000 copies of the message field (3 MB) with no session id", INVALID,
                List.of("session_id", "required"), () -> {
                    UnknownFieldSet.Field.Builder many = UnknownFieldSet.Field.newBuilder();
                    ByteString one = fields(1, 2L, 2, "m".repeat(1000)).toByteString();
                    for (int i = 0; i < 3000; i++) {
                        many.addLengthDelimited(one);
                    }
                    return raw(anonymous, ChatServiceGrpc.getSendMessageMethod(),
                            UnknownFieldSet.newBuilder().addField(3, many.build()).build().toByteArray());
                }));
        // Encodings: invalid UTF-8 in string fields, as raw protobuf (builders cannot make it).
        byte[] badUtf8 = {'h', 'i', (byte) 0xC3, (byte) 0x28};
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF};
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        t.add(c("invalid UTF-8 in message.content", INVALID, List.of("message.content", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, BASE, 3, fields(1, 2L, 2, badUtf8)).toByteArray())));
        t.add(c("overlong UTF-8 ('/' as C0 AF) in message.content", INVALID,
                List.of("message.content", "not valid UTF-8"), () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, BASE, 3, fields(1, 2L, 2, overlong)).toByteArray())));
        t.add(c("a UTF-16 surrogate encoded in UTF-8 in message.content", INVALID,
                List.of("message.content", "not valid UTF-8"), () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, BASE, 3, fields(1, 2L, 2, surrogate)).toByteArray())));
        t.add(c("invalid UTF-8 in session_id", INVALID, List.of("session_id", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, badUtf8, 3, fields(1, 2L, 2, "Hi")).toByteArray())));
        t.add(c("invalid UTF-8 in request_id", INVALID, List.of("request_id", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, BASE, 2, badUtf8, 3, fields(1, 2L, 2, "Hi")).toByteArray())));
        t.add(c("invalid UTF-8 in resume.text", INVALID, List.of("resume.text", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, BASE, 3, fields(1, 2L, 2, "Hi"), 15, fields(2, badUtf8)).toByteArray())));
        t.add(c("invalid UTF-8 in CreateSession system_prompt", INVALID, List.of("system_prompt", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getCreateSessionMethod(),
                        fields(1, "h-utf8", 2, badUtf8).toByteArray())));
        t.add(c("invalid UTF-8 in CreateSession session_id", INVALID, List.of("session_id", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getCreateSessionMethod(), fields(1, surrogate).toByteArray())));
        t.add(c("invalid UTF-8 in GetSession session_id", INVALID, List.of("session_id", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getGetSessionMethod(), fields(1, overlong).toByteArray())));
        t.add(c("invalid UTF-8 in ListSessions page_token", INVALID, List.of("page_token", "not valid UTF-8"),
                () -> raw(owner, ChatServiceGrpc.getListSessionsMethod(), fields(2, badUtf8).toByteArray())));
        // Raw invalid protobuf.
        t.add(c("truncated varint", INVALID, List.of("request", "not a valid SendMessageRequest message"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(), new byte[] {0x08, (byte) 0xFF, (byte) 0xFF})));
        t.add(c("length-delimited field longer than the request", INVALID,
                List.of("request", "not a valid SendMessageRequest message"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(), new byte[] {0x0A, 0x7F, 'x'})));
        t.add(c("an end-group tag without its start", INVALID, List.of("request", "not a valid GetSessionRequest"),
                () -> raw(owner, ChatServiceGrpc.getGetSessionMethod(), new byte[] {0x0C})));
        t.add(c("groups nested 20000 deep", INVALID, List.of("request", "not a valid SendMessageRequest message"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(), "\u000b".repeat(20_000)
                        .getBytes(StandardCharsets.US_ASCII))));
        t.add(c("field number 0", INVALID, List.of("request", "not a valid CreateSessionRequest message"),
                () -> raw(owner, ChatServiceGrpc.getCreateSessionMethod(), new byte[] {0x02, 0x01, 'x'})));
        t.add(c("wire type 7 (none exists)", INVALID, List.of("request", "not a valid ListSessionsRequest message"),
                () -> raw(owner, ChatServiceGrpc.getListSessionsMethod(), new byte[] {0x0F, 0x01})));
        t.add(c("garbage bytes", INVALID, List.of("request", "not a valid SendMessageRequest message"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(), garbage())));
        t.add(c("session_id sent with the wrong wire type (a varint): an unknown field, so no session id", INVALID,
                List.of("session_id", "required"), () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(1, 12345L, 3, fields(1, 2L, 2, "Hi")).toByteArray())));
        t.add(c("an empty request", INVALID, List.of("session_id", "required"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(), new byte[0])));
        t.add(c("the decoder's own error field forged by a client (text)", INVALID, List.of("session_id", "required"),
                () -> raw(owner, ChatServiceGrpc.getSendMessageMethod(),
                        fields(536_870_911, "forged: you have been pwned", 3, fields(2, "Hi")).toByteArray())));
        t.add(c("the decoder's own error field forged by a client (a varint)", INVALID,
                List.of("session_id", "required"), () -> raw(owner, ChatServiceGrpc.getGetSessionMethod(),
                        fields(536_870_911, 7L).toByteArray())));
        // Ids.
        t.add(c("empty session_id", INVALID, List.of("session_id", "required", ID_RULE),
                () -> send(owner, b -> b.setSessionId(""))));
        t.add(c("session_id of 129 characters", INVALID, List.of("session_id", ID_RULE, "129 characters"),
                () -> send(owner, b -> b.setSessionId("s".repeat(129)))));
        t.add(c("session_id with spaces", INVALID, List.of("session_id", ID_RULE, "'a b c'"),
                () -> send(owner, b -> b.setSessionId("a b c"))));
        t.add(c("session_id with a newline (quoted escaped)", INVALID, List.of("session_id", ID_RULE, "a\\nb"),
                () -> send(owner, b -> b.setSessionId("a\nb"))));
        t.add(c("session_id in another script", INVALID, List.of("session_id", ID_RULE, "\\u4f1a"),
                () -> send(owner, b -> b.setSessionId("会话")))); // quoted as \\u escapes
        t.add(c("session_id ../", INVALID, List.of("session_id", ID_RULE, "'../etc/passwd'"),
                () -> send(owner, b -> b.setSessionId("../etc/passwd"))));
        t.add(c("session_id with NUL", INVALID, List.of("session_id", ID_RULE, "\\u0000"),
                () -> send(owner, b -> b.setSessionId("a\u0000b"))));
        t.add(c("request_id ../", INVALID, List.of("request_id", ID_RULE),
                () -> send(owner, b -> b.setRequestId("../r"))));
        t.add(c("request_id of 129 characters", INVALID, List.of("request_id", ID_RULE, "129 characters"),
                () -> send(owner, b -> b.setRequestId("r".repeat(129)))));
        t.add(c("GetSession with an empty id", INVALID, List.of("session_id", "required"),
                () -> unary(() -> owner.blocking().getSession(GetSessionRequest.getDefaultInstance()))));
        t.add(c("GetSession ../", INVALID, List.of("session_id", ID_RULE),
                () -> unary(() -> owner.blocking().getSession(GetSessionRequest.newBuilder()
                        .setSessionId("../" + BASE).build()))));
        t.add(c("DeleteSession with spaces", INVALID, List.of("session_id", ID_RULE),
                () -> unary(() -> owner.blocking().deleteSession(DeleteSessionRequest.newBuilder()
                        .setSessionId(BASE + " ").build()))));
        t.add(c("DeleteSession with an empty id", INVALID, List.of("session_id", "required"),
                () -> unary(() -> owner.blocking().deleteSession(DeleteSessionRequest.getDefaultInstance()))));
        t.add(c("CreateSession ../", INVALID, List.of("session_id", ID_RULE),
                () -> create(owner, b -> b.setSessionId("../evil"))));
        t.add(c("CreateSession id of 129 characters", INVALID, List.of("session_id", ID_RULE, "129 characters"),
                () -> create(owner, b -> b.setSessionId("c".repeat(129)))));
        // Numbers out of range.
        for (int bad : new int[] {0, -1, 4097, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            t.add(c("max_tokens " + bad, INVALID, List.of("sampling.max_tokens", bad + " is outside [1, 4096]"),
                    () -> send(owner, b -> b.setSampling(SamplingParams.newBuilder().setMaxTokens(bad)))));
        }
        t.add(c("max_tokens over the session's context budget", INVALID,
                List.of("sampling.max_tokens", "200", "context budget of " + BASE_BUDGET),
                () -> send(owner, b -> b.setSampling(SamplingParams.newBuilder().setMaxTokens(200)))));
        for (float bad : new float[] {-0.1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Math.nextUp(2f), -Float.MIN_VALUE}) {
            t.add(c("temperature " + bad, INVALID, List.of("sampling.temperature", bad + " is outside [0, 2.0]"),
                    () -> send(owner, b -> b.setSampling(SamplingParams.newBuilder().setTemperature(bad)))));
        }
        for (float bad : new float[] {0f, -0f, Math.nextUp(1f), Float.NaN, Float.NEGATIVE_INFINITY, 1e30f}) {
            t.add(c("top_p " + bad, INVALID, List.of("sampling.top_p", bad + " is outside (0, 1]"),
                    () -> send(owner, b -> b.setSampling(SamplingParams.newBuilder().setTopP(bad)))));
        }
        for (int bad : new int[] {1, 63, -1, Integer.MAX_VALUE}) {
            t.add(c("context budget " + bad, INVALID, List.of("settings.context_budget_tokens", bad + " is outside",
                    "[64, "), () -> create(owner, b -> b.setSessionId("h-budget").setSettings(
                            SessionSettings.newBuilder().setContextBudgetTokens(bad)))));
        }
        for (int bad : new int[] {9, 96, -5, Integer.MIN_VALUE}) {
            t.add(c("low watermark percent " + bad, INVALID, List.of("settings.low_watermark_percent",
                    bad + " is outside", "[10, 95]"), () -> create(owner, b -> b.setSessionId("h-wm").setSettings(
                            SessionSettings.newBuilder().setLowWatermarkPercent(bad)))));
        }
        t.add(c("session temperature NaN", INVALID, List.of("settings.sampling.temperature", "NaN", "[0, 2.0]"),
                () -> create(owner, b -> b.setSessionId("h-t").setSettings(SessionSettings.newBuilder()
                        .setSampling(SamplingParams.newBuilder().setTemperature(Float.NaN))))));
        t.add(c("session max_tokens 5000", INVALID, List.of("settings.sampling.max_tokens", "5000", "[1, 4096]"),
                () -> create(owner, b -> b.setSessionId("h-m").setSettings(SessionSettings.newBuilder()
                        .setSampling(SamplingParams.newBuilder().setMaxTokens(5000))))));
        t.add(c("session max_tokens over its own budget", INVALID,
                List.of("settings.sampling.max_tokens", "300", "context budget of 128"),
                () -> create(owner, b -> b.setSessionId("h-m2").setSettings(SessionSettings.newBuilder()
                        .setContextBudgetTokens(128).setSampling(SamplingParams.newBuilder().setMaxTokens(300))))));
        // Unknown enum values.
        t.add(c("pruning policy 99", INVALID, List.of("settings.pruning_policy", "unknown value 99"),
                () -> create(owner, b -> b.setSessionId("h-p").setSettings(SessionSettings.newBuilder()
                        .setPruningPolicyValue(99)))));
        t.add(c("pruning policy -1", INVALID, List.of("settings.pruning_policy", "unknown value -1"),
                () -> create(owner, b -> b.setSessionId("h-p2").setSettings(SessionSettings.newBuilder()
                        .setPruningPolicyValue(-1)))));
        t.add(c("role 99", INVALID, List.of("message.role", "ROLE_USER", "unknown value 99"),
                () -> send(owner, b -> b.setMessage(ChatMessage.newBuilder().setRoleValue(99).setContent("Hi")))));
        t.add(c("role ASSISTANT", INVALID, List.of("message.role", "ROLE_USER", "ROLE_ASSISTANT"),
                () -> send(owner, b -> b.setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_ASSISTANT)
                        .setContent("Hi")))));
        // Resume fields, which only a router may set.
        t.add(c("resume set by a client", INVALID, List.of("resume", "set by the router only"),
                () -> send(owner, b -> b.setResume(ResumeState.newBuilder().addTokenIds(5).setText("x")))));
        t.add(c("an empty resume set by a client", INVALID, List.of("resume", "set by the router only"),
                () -> send(owner, b -> b.setResume(ResumeState.getDefaultInstance()))));
        t.add(c("resume with a forged internal credential", INVALID, List.of("resume", "set by the router only"),
                () -> send(withHeaders(Map.of(CallMetadata.OWNER, OWNER, InternalCredential.METADATA_KEY,
                        "guessed-credential")), b -> b.setResume(ResumeState.newBuilder().addTokenIds(5)
                        .setBaseVersion(1)))));
        // The caller's identity metadata.
        t.add(c("x-warmroute-owner with spaces", INVALID, List.of("x-warmroute-owner", "1 to 128 characters"),
                () -> send(withHeaders(Map.of(CallMetadata.OWNER, "not an owner")), b -> b)));
        t.add(c("x-warmroute-owner of 129 characters", INVALID, List.of("x-warmroute-owner", "1 to 128 characters"),
                () -> unary(() -> withHeaders(Map.of(CallMetadata.OWNER, "o".repeat(129))).blocking()
                        .getSession(GetSessionRequest.newBuilder().setSessionId(BASE).build()))));
        t.add(c("x-warmroute-owner empty", INVALID, List.of("x-warmroute-owner", "1 to 128 characters"),
                () -> unary(() -> withHeaders(Map.of(CallMetadata.OWNER, "")).blocking()
                        .listSessions(ListSessionsRequest.getDefaultInstance()))));
        t.add(c("x-warmroute-owner ../", INVALID, List.of("x-warmroute-owner", "1 to 128 characters"),
                () -> unary(() -> withHeaders(Map.of(CallMetadata.OWNER, "../" + OWNER)).blocking()
                        .deleteSession(DeleteSessionRequest.newBuilder().setSessionId(BASE).build()))));
        // ListSessions.
        t.add(c("page_token made up", INVALID, List.of("page_token", "not issued by this service"),
                () -> list(owner, b -> b.setPageToken("forged"))));
        t.add(c("page_token of the right shape with a bad number", INVALID,
                List.of("page_token", "not issued by this service"), () -> list(owner, b -> b.setPageToken(
                        Base64.getUrlEncoder().encodeToString("v1:0:notanumber:x".getBytes(StandardCharsets.UTF_8))))));
        t.add(c("page_token of 100000 characters", INVALID, List.of("page_token", "not issued by this service"),
                () -> list(owner, b -> b.setPageToken("A".repeat(100_000)))));
        t.add(c("page_token issued to another owner", INVALID, List.of("page_token", "for this owner"),
                () -> list(as("intruder"), b -> b.setPageToken(ownersPageToken))));
        for (int bad : new int[] {-1, 501, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            t.add(c("page_size " + bad, INVALID, List.of("page_size", bad + " is outside", "[1, 500]"),
                    () -> list(owner, b -> b.setPageSize(bad))));
        }
        // Deadlines and cancellation: nothing written, checked by the next turn of the same session.
        t.add(c("SendMessage with a 1 ms deadline", "DEADLINE_EXCEEDED", List.of("exceeded"),
                () -> nothingWrittenBy("deadline-1", (client, id) -> client.send(ChatClient.message(id, "d1",
                        "Hello."), Duration.ofMillis(1)).status())));
        t.add(c("cancel mid-answer", "CANCELLED", List.of(), () -> nothingWrittenBy("cancel-1", (client, id) -> {
            ChatClient.Reply r = client.send(ChatClient.message(id, "c1", "Once upon a time"),
                    ChatClient.TURN_DEADLINE, (deltas, cancel) -> {
                        if (deltas == 2) {
                            cancel.run();
                        }
                    });
            assertTrue(r.deltas().size() >= 2, "cancelled after two deltas: " + r);
            return r.status();
        })));
        t.add(c("GetSession with a 1 ms deadline", "DEADLINE_EXCEEDED", List.of("exceeded"), () -> unary(() ->
                owner.blocking().withDeadlineAfter(1, TimeUnit.MILLISECONDS).getSession(GetSessionRequest.newBuilder()
                        .setSessionId(BASE).build()))));
        t.add(c("CreateSession with a 1 ms deadline, then its retry gets the session", "DEADLINE_EXCEEDED",
                List.of("exceeded"), () -> {
                    ChatClient other = as("scenario");
                    CreateSessionRequest r = CreateSessionRequest.newBuilder().setSessionId("deadline-create")
                            .setSettings(ChatClient.greedy(4)).build();
                    Outcome o = unary(() -> other.blocking().withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                            .createSession(r));
                    // Landed or not, a retry of the same request gets the session (never ALREADY_EXISTS).
                    assertEquals("deadline-create", other.blocking().createSession(r).getSessionId());
                    return o;
                }));
        // Floods and huge histories.
        t.add(c("a flood of 300 CreateSession calls against a limit of 250 per owner", "RESOURCE_EXHAUSTED",
                List.of("sessions: owner 'flood' holds 250 sessions", "--max-sessions-per-owner 250"),
                HostileInputTest::flood));
        t.add(c("many turns on a session with pruning NONE until its window is full", "RESOURCE_EXHAUSTED",
                List.of("context full", "context budget 128", "pruning policy is NONE"), HostileInputTest::fillUp));
        // The HTTP front (OpenAI-compatible).
        t.add(c("HTTP: malformed JSON", "HTTP 400", List.of("body", "not valid JSON"), () -> post("{\"model\": ")));
        t.add(c("HTTP: a JSON array, not an object", "HTTP 400", List.of("body", "must be a JSON object"),
                () -> post("[]")));
        t.add(c("HTTP: invalid UTF-8 in the body", "HTTP 400", List.of("body", "not valid JSON", "UTF-8"),
                () -> post(("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\u00ff\u00fe\"}]}")
                        .getBytes(StandardCharsets.ISO_8859_1), Map.of())));
        t.add(c("HTTP: messages of the wrong type", "HTTP 400", List.of("messages", "must be a non-empty list"),
                () -> post(body(Map.of("messages", "hi")))));
        t.add(c("HTTP: temperature a string", "HTTP 400", List.of("temperature", "must be a number", "[0, 2]"),
                () -> post(body(Map.of("temperature", "hot")))));
        t.add(c("HTTP: temperature NaN (not JSON)", "HTTP 400", List.of("body", "not valid JSON"),
                () -> post(body(Map.of()).replace("\"max_tokens\":4", "\"max_tokens\":4,\"temperature\":NaN"))));
        t.add(c("HTTP: temperature 1e999 (infinite as a double)", "HTTP 400", List.of("temperature", "[0, 2]"),
                () -> post(body(Map.of()).replace("\"max_tokens\":4", "\"max_tokens\":4,\"temperature\":1e999"))));
        t.add(c("HTTP: max_tokens 0", "HTTP 400", List.of("max_tokens", "[1, 4096]"),
                () -> post(body(Map.of("max_tokens", 0)))));
        t.add(c("HTTP: max_tokens 10^12", "HTTP 400", List.of("max_tokens", "[1, 4096]"),
                () -> post(body(Map.of("max_tokens", 1_000_000_000_000L)))));
        t.add(c("HTTP: an unknown field", "HTTP 400", List.of("frobnicate", "unrecognized request argument"),
                () -> post(body(Map.of("frobnicate", true)))));
        t.add(c("HTTP: 2049 messages", "HTTP 400", List.of("messages", "2049 messages exceed the limit of 2048"),
                () -> post(manyMessages(2049))));
        t.add(c("HTTP: content over the limit", "HTTP 400", List.of("messages[0].content", "32769 bytes", "32768"),
                () -> post(body(Map.of("messages", List.of(Map.of("role", "user", "content", "x".repeat(32769))))))));
        t.add(c("HTTP: user not an id", "HTTP 400", List.of("user", ID_RULE), () -> post(body(Map.of("user",
                "../x")))));
        t.add(c("HTTP: x-session-id not an id", "HTTP 400", List.of("x-session-id", ID_RULE),
                () -> post(body(Map.of()).getBytes(StandardCharsets.UTF_8), Map.of("x-session-id", "a b"))));
        t.add(c("HTTP: JSON nested 100000 deep", "HTTP 400", List.of("body", "not valid JSON", "nesting depth"),
                () -> post("[".repeat(100_000))));
        t.add(c("HTTP: a body of 2 MiB (over the 1 MiB limit)", "HTTP 413", List.of("body", "limit of 1048576 bytes"),
                () -> post(body(Map.of("messages", List.of(Map.of("role", "user", "content",
                        "x".repeat(2 << 20))))))));
        return t;
    }

    // ---- the run ----

    @Test
    void everyHostileRequestIsRefusedNamingItsFieldAndChangesNothing() throws Exception {
        List<Case> corpus = corpus();
        assertTrue(corpus.size() >= 60, "the corpus has " + corpus.size() + " cases");
        List<String> failures = new ArrayList<>();
        int canaryVersion = (int) canary.get("canary").getVersion();
        for (Case k : corpus) {
            Outcome o;
            try {
                o = k.send().get();
            } catch (AssertionError | RuntimeException e) {
                failures.add(k + ": " + e);
                continue;
            }
            // The outcomes, one line each, in the test's output (target/surefire-reports/*-output.txt): the
            // messages docs/operations.md quotes.
            System.out.println("case | " + k + " | " + o.code() + " | " + o.message());
            List<String> wrong = new ArrayList<>();
            if (k.today() == null && !o.code().equals(k.code())) {
                wrong.add("got " + o.code() + ", expected " + k.code());
            } else if (k.today() != null && o.code().equals(k.code())) {
                wrong.add("the known bug '" + k.bug() + "' is fixed: drop knownBug from this row");
            } else if (k.today() != null && !o.code().equals(k.today())) {
                wrong.add("got " + o.code() + ", expected " + k.code() + " (or " + k.today() + " while '" + k.bug()
                        + "')");
            }
            for (String w : k.words()) {
                if (!o.message().contains(w)) {
                    wrong.add("the message lacks '" + w + "'");
                }
            }
            if (o.code().equals("UNKNOWN") || o.message().contains("\tat ") || o.message().contains("Exception")
                    || o.message().chars().anyMatch(ch -> ch < 0x20)) {
                wrong.add("UNKNOWN, a stack trace or a control character");
            }
            wrong.addAll(changes());
            try {
                ChatClient.Reply turn = canary.send(ChatClient.message("canary", "", "Still there?"));
                if (!turn.ok() || turn.complete().getVersion() != ++canaryVersion) {
                    wrong.add("a normal turn afterwards: " + turn);
                }
                HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(http + "/health"))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() != 200) {
                    wrong.add("the HTTP front's health afterwards: " + health.statusCode());
                }
            } catch (RuntimeException | AssertionError e) {
                wrong.add("the servers afterwards: " + e);
            }
            if (!wrong.isEmpty()) {
                failures.add(k + ": " + String.join("; ", wrong) + " [" + o.code() + ": " + o.message() + "]");
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + corpus.size() + " cases failed:\n"
                + String.join("\n", failures));
    }

    /** What changed that no case may change: the owner's session, and the owner's and anonymous sessions. */
    private static List<String> changes() {
        List<String> out = new ArrayList<>();
        Session base = owner.get(BASE);
        if (base.getVersion() != 1 || base.getTurnCount() != 1 || base.getMessagesCount() != 3) {
            out.add("the owner's session changed: version " + base.getVersion() + ", turns " + base.getTurnCount()
                    + ", messages " + base.getMessagesCount());
        }
        int own = owner.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(500).build())
                .getSessionsCount();
        if (own != 2) {
            out.add("the owner has " + own + " sessions, not 2");
        }
        int anon = anonymous.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(500).build())
                .getSessionsCount();
        if (anon != 0) {
            out.add("anonymous callers have " + anon + " sessions, not 0");
        }
        return out;
    }

    // ---- how cases are sent ----

    private static ChatMessage user(String text) {
        return ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text).build();
    }

    /** A turn of BASE edited by {@code edit}. */
    private static Outcome send(ChatClient via, UnaryOperator<SendMessageRequest.Builder> edit) {
        ChatClient.Reply r = via.send(edit.apply(ChatClient.message(BASE, "", "Hello again.").toBuilder()).build(),
                Duration.ofSeconds(60));
        if (r.started() != null && !r.ok()) {
            throw new AssertionError("refused after the turn started: " + r);
        }
        return Outcome.of(r.status());
    }

    private static Outcome create(ChatClient via, UnaryOperator<CreateSessionRequest.Builder> edit) {
        return unary(() -> via.blocking().createSession(edit.apply(CreateSessionRequest.newBuilder()).build()));
    }

    private static Outcome list(ChatClient via, UnaryOperator<ListSessionsRequest.Builder> edit) {
        return unary(() -> via.blocking().listSessions(edit.apply(ListSessionsRequest.newBuilder()).build()));
    }

    private static Outcome unary(Supplier<?> call) {
        try {
            call.get();
            return Outcome.ok();
        } catch (StatusRuntimeException e) {
            return Outcome.of(e.getStatus());
        }
    }

    /** Sends {@code bytes} as the request of {@code method}, as they are (a byte[] marshaller). */
    private static Outcome raw(ChatClient via, MethodDescriptor<?, ?> method, byte[] bytes) {
        MethodDescriptor<byte[], byte[]> m = RawBytes.of(method);
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS);
        var channel = ClientInterceptors.intercept(via.channel(), MetadataUtils.newAttachHeadersInterceptor(
                headersOf(via)));
        try {
            if (m.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
                Iterator<byte[]> events = ClientCalls.blockingServerStreamingCall(channel, m, options, bytes);
                while (events.hasNext()) {
                    events.next();
                }
            } else {
                ClientCalls.blockingUnaryCall(channel, m, options, bytes);
            }
            return Outcome.ok();
        } catch (StatusRuntimeException e) {
            return Outcome.of(e.getStatus());
        }
    }

    /** The owner header of the clients made here (raw calls go on the bare channel). */
    private static Metadata headersOf(ChatClient via) {
        Metadata m = new Metadata();
        if (via == owner) {
            m.put(CallMetadata.OWNER, OWNER);
        }
        return m;
    }

    /** Raw protobuf: pairs of field number and value (String, byte[], Long as a varint, a nested field set). */
    private static UnknownFieldSet fields(Object... pairs) {
        UnknownFieldSet.Builder b = UnknownFieldSet.newBuilder();
        for (int i = 0; i < pairs.length; i += 2) {
            int number = (Integer) pairs[i];
            UnknownFieldSet.Field.Builder f = UnknownFieldSet.Field.newBuilder();
            switch (pairs[i + 1]) {
                case String s -> f.addLengthDelimited(ByteString.copyFromUtf8(s));
                case byte[] bytes -> f.addLengthDelimited(ByteString.copyFrom(bytes));
                case Long v -> f.addVarint(v);
                case UnknownFieldSet nested -> f.addLengthDelimited(nested.toByteString());
                default -> throw new IllegalArgumentException(String.valueOf(pairs[i + 1]));
            }
            b.mergeField(number, f.build());
        }
        return b.build();
    }

    /** Bytes that are no protobuf message (a fixed seed: the same bytes every run). */
    private static byte[] garbage() {
        byte[] b = new byte[256];
        new java.util.Random(13).nextBytes(b);
        b[0] = (byte) 0xFF; // tag with every continuation bit: an invalid varint to start with
        b[1] = (byte) 0xFF;
        return b;
    }

    /**
     * Runs {@code attempt} on a fresh session of its own, then a normal turn on it, which must be turn 0 (version 1):
     * the attempt wrote nothing, whenever the server noticed the deadline or the cancel.
     */
    private static Outcome nothingWrittenBy(String id, java.util.function.BiFunction<ChatClient, String, Status> attempt) {
        ChatClient scenario = as("scenario");
        scenario.create(id, "", ChatClient.greedy(400));
        Status s = attempt.apply(scenario, id);
        ChatClient.Reply next = scenario.send(ChatClient.message(id, "after", "Hello."));
        if (!next.ok() || next.complete().getTurnIndex() != 0 || next.complete().getVersion() != 1) {
            throw new AssertionError("the next turn of " + id + " is not its turn 0: " + next + " (" + s + ")");
        }
        return Outcome.of(s);
    }

    private static Outcome flood() {
        ChatClient flooder = as("flood");
        StatusRuntimeException refused = null;
        for (int i = 0; i < 300; i++) {
            try {
                flooder.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("flood-" + i).build());
            } catch (StatusRuntimeException e) {
                assertEquals(250, i, "the first refusal is the 251st session");
                refused = e;
                break;
            }
        }
        int listed = flooder.blocking().listSessions(ListSessionsRequest.newBuilder().setPageSize(500).build())
                .getSessionsCount();
        assertEquals(250, listed, "the sessions up to the limit are there, none beyond");
        return refused == null ? Outcome.ok() : Outcome.of(refused.getStatus());
    }

    /** Turns on a session with pruning NONE until the window is full: the refused turn writes nothing. */
    private static Outcome fillUp() {
        ChatClient scenario = as("scenario");
        scenario.create("full-1", "", SessionSettings.newBuilder().setContextBudgetTokens(128)
                .setPruningPolicy(PruningPolicy.PRUNING_POLICY_NONE).setSampling(ChatClient.sampling(0, 7, 8)).build());
        for (int turn = 0; turn < 100; turn++) {
            ChatClient.Reply r = scenario.send(ChatClient.message("full-1", "f" + turn, "Tell me more about it."));
            if (!r.ok()) {
                Session s = scenario.get("full-1");
                assertEquals(turn, s.getVersion(), "the refused turn wrote nothing");
                assertEquals(turn, s.getTurnCount());
                assertTrue(turn >= 1, "at least one turn fits: " + r);
                return Outcome.of(r.status());
            }
        }
        throw new AssertionError("100 turns fit a 128-token window with pruning NONE");
    }

    private static String body(Map<String, Object> overrides) {
        Map<String, Object> b = new java.util.LinkedHashMap<>();
        b.put("model", model);
        b.put("messages", List.of(Map.of("role", "user", "content", "Hi")));
        b.put("max_tokens", 4);
        b.putAll(overrides);
        try {
            return JSON.writeValueAsString(b);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String manyMessages(int n) {
        List<Map<String, String>> messages = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            messages.add(Map.of("role", i % 2 == 0 ? "user" : "assistant", "content", "m" + i));
        }
        return body(Map.of("messages", messages));
    }

    private static Outcome post(String body) {
        return post(body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** POST /v1/chat/completions; the outcome is "HTTP status" and the OpenAI error's message (or the raw body). */
    private static Outcome post(byte[] body, Map<String, String> headers) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(http + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(r::header);
        try {
            HttpResponse<String> res = HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
            String message = res.body();
            try {
                JsonNode error = JSON.readTree(res.body()).path("error");
                if (error.isObject()) {
                    message = error.path("message").asText();
                }
            } catch (java.io.IOException notJson) {
                // the raw body is the message
            }
            return new Outcome("HTTP " + res.statusCode(), message);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

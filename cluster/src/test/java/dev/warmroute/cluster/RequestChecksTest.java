package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SessionSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The one validator of client requests, shared by workers and routers: every field, each limit on both sides of it,
 * and the exact message (field, problem, limit). The servers' integration tests (the worker's BadInputTest, the
 * router's proxy tests) check that these reach the client as INVALID_ARGUMENT and that nothing is written.
 */
class RequestChecksTest {

    private static void refuses(String message, Executable check) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, check);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(message, e.getStatus().getDescription());
    }

    private static SendMessageRequest turn(UnaryOperator<SendMessageRequest.Builder> edit) {
        return edit.apply(SendMessageRequest.newBuilder().setSessionId("s-1").setRequestId("r-1")
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("Hello."))).build();
    }

    private static SendMessageRequest sampling(SamplingParams.Builder p) {
        return turn(b -> b.setSampling(p));
    }

    private static CreateSessionRequest session(SessionSettings.Builder s) {
        return CreateSessionRequest.newBuilder().setSettings(s).build();
    }

    @Test
    void sessionIdIsRequiredAndOneTo128CharactersOfTheIdAlphabet() {
        refuses("session_id: required (1 to 128 characters of [A-Za-z0-9._:-])",
                () -> RequestChecks.sendMessage(turn(b -> b.setSessionId(""))));
        refuses("session_id: must be 1 to 128 characters of [A-Za-z0-9._:-], got 'no spaces allowed' (17 characters)",
                () -> RequestChecks.sessionId("no spaces allowed"));
        refuses("session_id: must be 1 to 128 characters of [A-Za-z0-9._:-], got '" + "s".repeat(37) + "...' (129"
                + " characters)", () -> RequestChecks.sessionId("s".repeat(129)));
        assertEquals("s".repeat(128), RequestChecks.sessionId("s".repeat(128)));
        assertEquals("a.B_9:z-1", RequestChecks.sessionId("a.B_9:z-1"));
    }

    @Test
    void requestIdIsOptionalButWellFormedWhenGiven() {
        assertDoesNotThrow(() -> RequestChecks.sendMessage(turn(b -> b.clearRequestId())));
        refuses("request_id: must be 1 to 128 characters of [A-Za-z0-9._:-], got 'bad/id' (6 characters)",
                () -> RequestChecks.sendMessage(turn(b -> b.setRequestId("bad/id"))));
        refuses("request_id: must be 1 to 128 characters of [A-Za-z0-9._:-], got '" + "r".repeat(37) + "...' (129"
                + " characters)", () -> RequestChecks.sendMessage(turn(b -> b.setRequestId("r".repeat(129)))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(turn(b -> b.setRequestId("r".repeat(128)))));
    }

    @Test
    void resumeIsRefusedFromClientsAndAcceptedFromTheRouter() {
        SendMessageRequest resumed = turn(b -> b.setResume(ResumeState.newBuilder().addTokenIds(5).setText("x")));
        String refused = "resume: set by the router only (a continuation of an interrupted turn); clients must leave"
                + " it unset";
        refuses(refused, () -> RequestChecks.sendMessage(resumed));
        refuses(refused, () -> RequestChecks.sendMessage(resumed, false));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(resumed, true));
    }

    @Test
    void theMessageIsRequiredAndOnlyFromTheUser() {
        refuses("message: required (role ROLE_USER and content)",
                () -> RequestChecks.sendMessage(turn(SendMessageRequest.Builder::clearMessage)));
        refuses("message.role: only ROLE_USER may be sent, got ROLE_ASSISTANT", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(b.getMessage().toBuilder().setRole(Role.ROLE_ASSISTANT)))));
        refuses("message.role: only ROLE_USER may be sent, got ROLE_SYSTEM", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(b.getMessage().toBuilder().setRole(Role.ROLE_SYSTEM)))));
        refuses("message.role: only ROLE_USER may be sent, got unknown value 99", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(b.getMessage().toBuilder().setRoleValue(99)))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(b.getMessage().toBuilder().setRole(Role.ROLE_UNSPECIFIED)))));
    }

    @Test
    void contentIsOneTo32768BytesOfUtf8() {
        refuses("message.content: must not be empty (1 to 32768 bytes of UTF-8)", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER)))));
        refuses("message.content: 32769 bytes exceeds the limit of 32768 bytes", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(ChatMessage.newBuilder().setContent("x".repeat(32769))))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(ChatMessage.newBuilder().setContent("x".repeat(32768))))));
        // Multi-byte characters count as bytes: 16385 two-byte characters are 32770 bytes.
        refuses("message.content: 32770 bytes exceeds the limit of 32768 bytes", () -> RequestChecks.sendMessage(
                turn(b -> b.setMessage(ChatMessage.newBuilder().setContent("é".repeat(16385))))));
        refuses("system_prompt: not valid UTF-8", () -> RequestChecks.content("system_prompt",
                ByteString.copyFrom(new byte[] {'a', (byte) 0xFF}), true));
        assertDoesNotThrow(() -> RequestChecks.content("system_prompt", ByteString.EMPTY, true));
    }

    @Test
    void temperatureIsWithinZeroToTwo() {
        refuses("sampling.temperature: 2.5 is outside [0, 2.0]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTemperature(2.5f))));
        refuses("sampling.temperature: -0.1 is outside [0, 2.0]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTemperature(-0.1f))));
        refuses("sampling.temperature: NaN is outside [0, 2.0]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTemperature(Float.NaN))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTemperature(0))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTemperature(2))));
    }

    @Test
    void topPIsAboveZeroAndAtMostOne() {
        refuses("sampling.top_p: 0.0 is outside (0, 1]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTopP(0f))));
        refuses("sampling.top_p: 1.5 is outside (0, 1]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTopP(1.5f))));
        refuses("sampling.top_p: NaN is outside (0, 1]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTopP(Float.NaN))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTopP(1f))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setTopP(1e-6f))));
    }

    @Test
    void maxTokensIsWithinOneTo4096() {
        refuses("sampling.max_tokens: 0 is outside [1, 4096]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setMaxTokens(0))));
        refuses("sampling.max_tokens: 4097 is outside [1, 4096]",
                () -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setMaxTokens(4097))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setMaxTokens(1))));
        assertDoesNotThrow(() -> RequestChecks.sendMessage(sampling(SamplingParams.newBuilder().setMaxTokens(4096))));
    }

    @Test
    void createSessionChecksItsIdSystemPromptAndTheSettingsTheModelDoesNotDecide() {
        assertEquals("", RequestChecks.createSession(CreateSessionRequest.getDefaultInstance()));
        assertEquals("mine", RequestChecks.createSession(CreateSessionRequest.newBuilder().setSessionId("mine")
                .build()));
        refuses("session_id: must be 1 to 128 characters of [A-Za-z0-9._:-], got 'a b' (3 characters)",
                () -> RequestChecks.createSession(CreateSessionRequest.newBuilder().setSessionId("a b").build()));
        refuses("system_prompt: 32769 bytes exceeds the limit of 32768 bytes", () -> RequestChecks.createSession(
                CreateSessionRequest.newBuilder().setSystemPrompt("x".repeat(32769)).build()));
        refuses("settings.pruning_policy: unknown value 99 (WATERMARK, DROP_OLDEST or NONE)",
                () -> RequestChecks.createSession(session(SessionSettings.newBuilder().setPruningPolicyValue(99))));
        refuses("settings.sampling.max_tokens: 5000 is outside [1, 4096]", () -> RequestChecks.createSession(
                session(SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder().setMaxTokens(5000)))));
        refuses("settings.sampling.top_p: 2.0 is outside (0, 1]", () -> RequestChecks.createSession(
                session(SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder().setTopP(2)))));
    }

    @Test
    void lowWatermarkIsZeroOrWithinTenTo95() {
        for (int bad : new int[] {9, 96, -1}) {
            refuses("settings.low_watermark_percent: " + bad + " is outside 0 (default 75) or [10, 95]",
                    () -> RequestChecks.createSession(session(SessionSettings.newBuilder()
                            .setLowWatermarkPercent(bad))));
        }
        for (int good : new int[] {0, 10, 95}) {
            assertDoesNotThrow(() -> RequestChecks.createSession(session(SessionSettings.newBuilder()
                    .setLowWatermarkPercent(good))));
        }
    }

    @Test
    void contextBudgetIsZeroOrWithin64ToTheModelsContext() {
        for (int bad : new int[] {10, 63, 513}) {
            refuses("settings.context_budget_tokens: " + bad + " is outside 0 (the model's 512) or [64, 512]",
                    () -> RequestChecks.contextBudget(SessionSettings.newBuilder().setContextBudgetTokens(bad)
                            .build(), 512));
        }
        for (int good : new int[] {0, 64, 512}) {
            assertDoesNotThrow(() -> RequestChecks.contextBudget(SessionSettings.newBuilder()
                    .setContextBudgetTokens(good).build(), 512));
        }
    }

    @Test
    void pageSizeIsZeroForTheDefaultOrWithinOneTo500() {
        assertEquals(ApiLimits.DEFAULT_PAGE_SIZE, RequestChecks.pageSize(0));
        assertEquals(1, RequestChecks.pageSize(1));
        assertEquals(500, RequestChecks.pageSize(500));
        refuses("page_size: 501 is outside 0 (default 50) or [1, 500]", () -> RequestChecks.pageSize(501));
        refuses("page_size: -1 is outside 0 (default 50) or [1, 500]", () -> RequestChecks.pageSize(-1));
    }
}

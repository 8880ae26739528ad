package dev.warmroute.cluster;

import com.google.protobuf.ByteString;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SessionSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The checks of what a client sends that need neither the session nor the model, for every server that takes
 * client requests: the router (before it spends a worker on a request) and the worker (which may be called
 * directly). One copy, so both refuse the same request with the same words. Each failure is INVALID_ARGUMENT
 * {@code field: problem}, naming the limit (chat.proto's error model); the limits are {@link ApiLimits}'.
 *
 * <p>What needs the model or the session (does the message fit the context, does the budget suit the model, are
 * resumed token ids in the vocabulary) the worker checks later. UTF-8: protobuf-java refuses invalid UTF-8 in a
 * proto3 {@code string} while parsing, before any handler runs; {@link LenientRequestMarshaller} turns that into
 * INVALID_ARGUMENT naming the field, so the checks here normally see valid text (and say so when they do not).
 */
public final class RequestChecks {

    private RequestChecks() {}

    /** Bad input: {@code field: problem}. Nothing was written. */
    public static StatusRuntimeException invalid(String field, String problem) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + problem).asRuntimeException();
    }

    /** A required session id. */
    public static String sessionId(String value) {
        if (value == null || value.isEmpty()) {
            throw invalid("session_id", "required (" + ApiLimits.ID_RULE + ")");
        }
        return id("session_id", value);
    }

    /** An optional id (empty allowed): request_id, or CreateSession's session_id. */
    public static String optionalId(String field, String value) {
        return value == null || value.isEmpty() ? "" : id(field, value);
    }

    private static String id(String field, String value) {
        if (!ApiLimits.ID.matcher(value).matches()) {
            throw invalid(field, "must be " + ApiLimits.ID_RULE + ", got '" + abbreviate(value) + "' ("
                    + value.length() + " characters)");
        }
        return value;
    }

    /** A turn as a client sends it: {@code resume} is refused (only a router may set it). */
    public static void sendMessage(SendMessageRequest r) {
        sendMessage(r, false);
    }

    /**
     * A turn: ids, {@code resume} (only with {@code fromRouter}, i.e. the cluster's internal credential), the user
     * message and the sampling overrides, in that order.
     */
    public static void sendMessage(SendMessageRequest r, boolean fromRouter) {
        sessionId(r.getSessionId());
        optionalId("request_id", r.getRequestId());
        if (r.hasResume() && !fromRouter) {
            throw invalid("resume", "set by the router only (a continuation of an interrupted turn); clients must "
                    + "leave it unset");
        }
        userMessage(r.hasMessage(), r.getMessage());
        sampling("sampling", r.getSampling());
    }

    /** The user message of a turn: role and content. */
    public static void userMessage(boolean present, ChatMessage m) {
        if (!present) {
            throw invalid("message", "required (role ROLE_USER and content)");
        }
        if (m.getRole() != Role.ROLE_USER && m.getRole() != Role.ROLE_UNSPECIFIED) {
            throw invalid("message.role", "only ROLE_USER may be sent, got " + m.getRole());
        }
        content("message.content", m.getContentBytes(), false);
    }

    /** A text field's size: 1 (or 0 when optional) to 32768 bytes of UTF-8. */
    public static void content(String field, ByteString bytes, boolean emptyAllowed) {
        if (bytes.isEmpty() && !emptyAllowed) {
            throw invalid(field, "must not be empty (1 to " + ApiLimits.MAX_CONTENT_BYTES + " bytes of UTF-8)");
        }
        if (bytes.size() > ApiLimits.MAX_CONTENT_BYTES) {
            throw invalid(field, bytes.size() + " bytes exceeds the limit of " + ApiLimits.MAX_CONTENT_BYTES
                    + " bytes");
        }
        if (!bytes.isValidUtf8()) {
            throw invalid(field, "not valid UTF-8");
        }
    }

    /** Sampling overrides; {@code prefix} is "sampling" or "settings.sampling". */
    public static void sampling(String prefix, SamplingParams p) {
        if (p.hasTemperature()) {
            float t = p.getTemperature();
            if (!(t >= 0 && t <= ApiLimits.MAX_TEMPERATURE)) {
                throw invalid(prefix + ".temperature", t + " is outside [0, " + ApiLimits.MAX_TEMPERATURE + "]");
            }
        }
        if (p.hasTopP()) {
            float v = p.getTopP();
            if (!(v > 0 && v <= 1)) {
                throw invalid(prefix + ".top_p", v + " is outside (0, 1]");
            }
        }
        if (p.hasMaxTokens()) {
            int m = p.getMaxTokens();
            if (m < ApiLimits.MIN_MAX_TOKENS || m > ApiLimits.MAX_MAX_TOKENS) {
                throw invalid(prefix + ".max_tokens", m + " is outside [" + ApiLimits.MIN_MAX_TOKENS + ", "
                        + ApiLimits.MAX_MAX_TOKENS + "]");
            }
        }
    }

    /**
     * A CreateSession request without the model: the optional session id, the system prompt's size and the settings
     * whose limits chat.proto states outright (pruning policy, low watermark, sampling). Returns the session id ("" =
     * the server chooses). The context budget's upper limit is the model's context: {@link #contextBudget}.
     */
    public static String createSession(CreateSessionRequest r) {
        String id = optionalId("session_id", r.getSessionId());
        content("system_prompt", r.getSystemPromptBytes(), true);
        SessionSettings s = r.getSettings();
        if (s.getPruningPolicy() == PruningPolicy.UNRECOGNIZED) {
            throw invalid("settings.pruning_policy", "unknown value " + s.getPruningPolicyValue()
                    + " (WATERMARK, DROP_OLDEST or NONE)");
        }
        int w = s.getLowWatermarkPercent();
        if (w != 0 && (w < ApiLimits.MIN_LOW_WATERMARK || w > ApiLimits.MAX_LOW_WATERMARK)) {
            throw invalid("settings.low_watermark_percent", w + " is outside 0 (default "
                    + ApiLimits.DEFAULT_LOW_WATERMARK + ") or [" + ApiLimits.MIN_LOW_WATERMARK + ", "
                    + ApiLimits.MAX_LOW_WATERMARK + "]");
        }
        sampling("settings.sampling", s.getSampling());
        return id;
    }

    /** SessionSettings.context_budget_tokens against the serving model's context length: 0 means all of it. */
    public static void contextBudget(SessionSettings s, int contextLength) {
        int budget = s.getContextBudgetTokens();
        if (budget != 0 && (budget < ApiLimits.MIN_CONTEXT_BUDGET || budget > contextLength)) {
            throw invalid("settings.context_budget_tokens", budget + " is outside 0 (the model's "
                    + contextLength + ") or [" + ApiLimits.MIN_CONTEXT_BUDGET + ", " + contextLength + "]");
        }
    }

    /** ListSessions' page size: 0 means the default. */
    public static int pageSize(int requested) {
        if (requested == 0) {
            return ApiLimits.DEFAULT_PAGE_SIZE;
        }
        if (requested < 1 || requested > ApiLimits.MAX_PAGE_SIZE) {
            throw invalid("page_size", requested + " is outside 0 (default " + ApiLimits.DEFAULT_PAGE_SIZE
                    + ") or [1, " + ApiLimits.MAX_PAGE_SIZE + "]");
        }
        return requested;
    }

    /** A client's value quoted in a message: at most 40 characters. */
    /** A refused value as a status message quotes it: at most 40 of its characters, one line, escaped (LogSafe). */
    static String abbreviate(String s) {
        return s.length() <= 40 ? LogSafe.escape(s, Integer.MAX_VALUE)
                : LogSafe.escape(s.substring(0, 37), Integer.MAX_VALUE) + "...";
    }
}

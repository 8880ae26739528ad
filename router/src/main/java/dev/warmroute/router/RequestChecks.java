package dev.warmroute.router;

import com.google.protobuf.ByteString;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.cluster.ApiLimits;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * What the router checks itself before it spends a worker on a request: the fields it routes by and the limits
 * chat.proto states without knowing the session or the model. Everything else (does the message fit the context,
 * do the settings suit the model) is the worker's to check; its INVALID_ARGUMENT reaches the client unchanged.
 * Messages have the worker's shape: field, problem, limit.
 */
final class RequestChecks {

    private RequestChecks() {}

    static StatusRuntimeException invalid(String field, String problem) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + problem).asRuntimeException();
    }

    static String sessionId(String value) {
        if (value == null || value.isEmpty()) {
            throw invalid("session_id", "required (" + ApiLimits.ID_RULE + ")");
        }
        return id("session_id", value);
    }

    static String optionalId(String field, String value) {
        return value == null || value.isEmpty() ? "" : id(field, value);
    }

    private static String id(String field, String value) {
        if (!ApiLimits.ID.matcher(value).matches()) {
            String shown = value.length() <= 40 ? value : value.substring(0, 37) + "...";
            throw invalid(field, "must be " + ApiLimits.ID_RULE + ", got '" + shown + "' (" + value.length()
                    + " characters)");
        }
        return value;
    }

    /** A turn as a client sends it. */
    static void sendMessage(SendMessageRequest r) {
        sessionId(r.getSessionId());
        optionalId("request_id", r.getRequestId());
        if (r.hasResume()) {
            throw invalid("resume", "set by the router only (a continuation of an interrupted turn); clients must "
                    + "leave it unset");
        }
        if (!r.hasMessage()) {
            throw invalid("message", "required (role ROLE_USER and content)");
        }
        Role role = r.getMessage().getRole();
        if (role != Role.ROLE_USER && role != Role.ROLE_UNSPECIFIED) {
            throw invalid("message.role", "only ROLE_USER may be sent, got " + role);
        }
        content("message.content", r.getMessage().getContentBytes(), false);
        sampling("sampling", r.getSampling());
    }

    static void content(String field, ByteString bytes, boolean emptyAllowed) {
        if (bytes.isEmpty() && !emptyAllowed) {
            throw invalid(field, "must not be empty (1 to " + ApiLimits.MAX_CONTENT_BYTES + " bytes of UTF-8)");
        }
        if (bytes.size() > ApiLimits.MAX_CONTENT_BYTES) {
            throw invalid(field, bytes.size() + " bytes exceeds the limit of " + ApiLimits.MAX_CONTENT_BYTES
                    + " bytes");
        }
    }

    static void sampling(String prefix, SamplingParams p) {
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

    static int pageSize(int requested) {
        if (requested != 0 && (requested < 1 || requested > ApiLimits.MAX_PAGE_SIZE)) {
            throw invalid("page_size", requested + " is outside 0 (default 50) or [1, " + ApiLimits.MAX_PAGE_SIZE
                    + "]");
        }
        return requested;
    }
}

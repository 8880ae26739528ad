package dev.warmroute.worker;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import com.google.protobuf.ByteString;
import dev.warmroute.cluster.ApiLimits;

/**
 * Checks of everything a client sends, before anything is read or written. Each failure is INVALID_ARGUMENT naming
 * the field and the limit. Checks that need the session or the model's tokenizer (does the message fit the context?)
 * happen later, in the turn.
 *
 * <p>UTF-8: protobuf-java rejects invalid UTF-8 in a proto3 {@code string} while parsing, before any handler runs;
 * {@link dev.warmroute.cluster.LenientRequestMarshaller} turns that into INVALID_ARGUMENT naming the field, so the checks here only see
 * valid text.
 */
public final class Validation {

    private Validation() {}

    /** A required session id. */
    public static String sessionId(String value) {
        if (value == null || value.isEmpty()) {
            throw Errors.invalid("session_id", "required (" + ApiLimits.ID_RULE + ")");
        }
        return id("session_id", value);
    }

    /** An optional id (empty allowed): request_id, or CreateSession's session_id. */
    public static String optionalId(String field, String value) {
        return value == null || value.isEmpty() ? "" : id(field, value);
    }

    private static String id(String field, String value) {
        if (!ApiLimits.ID.matcher(value).matches()) {
            throw Errors.invalid(field, "must be " + ApiLimits.ID_RULE + ", got '" + Owner.abbreviate(value) + "' ("
                    + value.length() + " characters)");
        }
        return value;
    }

    /** The user message of a turn: role and content. */
    public static void userMessage(boolean present, ChatMessage m) {
        if (!present) {
            throw Errors.invalid("message", "required (role ROLE_USER and content)");
        }
        if (m.getRole() != Role.ROLE_USER && m.getRole() != Role.ROLE_UNSPECIFIED) {
            throw Errors.invalid("message.role", "only ROLE_USER may be sent, got " + m.getRole());
        }
        content("message.content", m.getContentBytes(), false);
    }

    /** A text field's size: 1 (or 0 when optional) to 32768 bytes of UTF-8. */
    public static void content(String field, ByteString bytes, boolean emptyAllowed) {
        if (bytes.isEmpty() && !emptyAllowed) {
            throw Errors.invalid(field, "must not be empty (1 to " + ApiLimits.MAX_CONTENT_BYTES + " bytes of UTF-8)");
        }
        if (bytes.size() > ApiLimits.MAX_CONTENT_BYTES) {
            throw Errors.invalid(field, bytes.size() + " bytes exceeds the limit of " + ApiLimits.MAX_CONTENT_BYTES
                    + " bytes");
        }
        if (!bytes.isValidUtf8()) {
            throw Errors.invalid(field, "not valid UTF-8");
        }
    }

    /** Sampling overrides; {@code prefix} is "sampling" or "settings.sampling". */
    public static void sampling(String prefix, SamplingParams p) {
        if (p.hasTemperature()) {
            float t = p.getTemperature();
            if (!(t >= 0 && t <= ApiLimits.MAX_TEMPERATURE)) {
                throw Errors.invalid(prefix + ".temperature", t + " is outside [0, " + ApiLimits.MAX_TEMPERATURE + "]");
            }
        }
        if (p.hasTopP()) {
            float v = p.getTopP();
            if (!(v > 0 && v <= 1)) {
                throw Errors.invalid(prefix + ".top_p", v + " is outside (0, 1]");
            }
        }
        if (p.hasMaxTokens()) {
            int m = p.getMaxTokens();
            if (m < ApiLimits.MIN_MAX_TOKENS || m > ApiLimits.MAX_MAX_TOKENS) {
                throw Errors.invalid(prefix + ".max_tokens", m + " is outside [" + ApiLimits.MIN_MAX_TOKENS + ", "
                        + ApiLimits.MAX_MAX_TOKENS + "]");
            }
        }
    }

    /** CreateSession settings against the model's context length. */
    public static void settings(SessionSettings s, int contextLength) {
        int budget = s.getContextBudgetTokens();
        if (budget != 0 && (budget < ApiLimits.MIN_CONTEXT_BUDGET || budget > contextLength)) {
            throw Errors.invalid("settings.context_budget_tokens", budget + " is outside 0 (the model's "
                    + contextLength + ") or [" + ApiLimits.MIN_CONTEXT_BUDGET + ", " + contextLength + "]");
        }
        if (s.getPruningPolicy() == PruningPolicy.UNRECOGNIZED) {
            throw Errors.invalid("settings.pruning_policy", "unknown value " + s.getPruningPolicyValue()
                    + " (WATERMARK, DROP_OLDEST or NONE)");
        }
        int w = s.getLowWatermarkPercent();
        if (w != 0 && (w < ApiLimits.MIN_LOW_WATERMARK || w > ApiLimits.MAX_LOW_WATERMARK)) {
            throw Errors.invalid("settings.low_watermark_percent", w + " is outside 0 (default "
                    + ApiLimits.DEFAULT_LOW_WATERMARK + ") or [" + ApiLimits.MIN_LOW_WATERMARK + ", "
                    + ApiLimits.MAX_LOW_WATERMARK + "]");
        }
        sampling("settings.sampling", s.getSampling());
    }

    /** ListSessions' page size: 0 means the default. */
    public static int pageSize(int requested) {
        if (requested == 0) {
            return ApiLimits.DEFAULT_PAGE_SIZE;
        }
        if (requested < 1 || requested > ApiLimits.MAX_PAGE_SIZE) {
            throw Errors.invalid("page_size", requested + " is outside 0 (default " + ApiLimits.DEFAULT_PAGE_SIZE
                    + ") or [1, " + ApiLimits.MAX_PAGE_SIZE + "]");
        }
        return requested;
    }
}

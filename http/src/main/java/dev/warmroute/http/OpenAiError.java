package dev.warmroute.http;

import dev.warmroute.cluster.CallMetadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A failure as OpenAI's API reports it: an HTTP status and the error object
 * {@code {"error": {"message", "type", "param", "code"}}}. Every failure of the front is one of these: either found
 * by the front itself (a bad field of the request, named in {@code param} and in the message) or a gRPC status of
 * the ChatService behind it, whose message is passed on unchanged ({@link #fromStatus}).
 */
public final class OpenAiError extends RuntimeException {

    private final int httpStatus;
    private final String type;
    private final String param;
    private final String code;
    private String retryAfter;

    public OpenAiError(int httpStatus, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.httpStatus = httpStatus;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 for a bad field: the message names the field and the limit; {@code param} is the field's path. */
    public static OpenAiError invalid(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "invalid_value", param + ": " + message);
    }

    /**
     * The HTTP status and error type for a gRPC status (chat.proto's error model). The message is ours, unchanged;
     * {@code param} is the field an INVALID_ARGUMENT message starts with ("message.content: ..."), when it does.
     */
    public static OpenAiError fromStatus(Status status) {
        String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        String grpc = status.getCode().name().toLowerCase(java.util.Locale.ROOT);
        return switch (status.getCode()) {
            case INVALID_ARGUMENT -> new OpenAiError(400, "invalid_request_error", fieldOf(message), grpc, message);
            case FAILED_PRECONDITION -> new OpenAiError(400, "invalid_request_error", null, grpc, message);
            case NOT_FOUND -> new OpenAiError(404, "invalid_request_error", null, grpc, message);
            case ALREADY_EXISTS, ABORTED -> new OpenAiError(409, "conflict_error", null, grpc, message);
            case RESOURCE_EXHAUSTED -> contextFull(message)
                    // A prompt that cannot fit is the client's to fix (OpenAI: 400 context_length_exceeded); an
                    // overload is worth retrying later (429, which OpenAI's clients retry with back-off).
                    ? new OpenAiError(400, "invalid_request_error", "messages", "context_length_exceeded", message)
                    : new OpenAiError(429, "rate_limit_error", null, grpc, message);
            case UNAUTHENTICATED -> new OpenAiError(401, "authentication_error", null, grpc, message);
            case PERMISSION_DENIED -> new OpenAiError(403, "permission_error", null, grpc, message);
            case UNAVAILABLE -> new OpenAiError(503, "service_unavailable", null, grpc, message);
            case DEADLINE_EXCEEDED -> new OpenAiError(504, "timeout", null, grpc, message);
            case CANCELLED -> new OpenAiError(499, "cancelled", null, grpc, message);
            default -> new OpenAiError(500, "server_error", null, grpc, message);
        };
    }

    /** {@link #fromStatus(Status)}, with the server's {@code retry-after} hint (seconds) when it gave one. */
    public static OpenAiError fromStatus(StatusRuntimeException e) {
        OpenAiError error = fromStatus(e.getStatus());
        String hint = e.getTrailers() == null ? null : e.getTrailers().get(CallMetadata.RETRY_AFTER);
        if (hint != null && hint.matches("[0-9]{1,6}")) {
            error.retryAfter = hint;
        }
        return error;
    }

    /** Seconds to wait before a retry (HTTP {@code Retry-After}, which OpenAI's clients honour), or null. */
    public String retryAfter() {
        return retryAfter;
    }

    /**
     * The worker's words for a prompt that cannot fit (PromptWindow): "message.content: does not fit the context
     * even alone ..." and "context full: ...". Anything else RESOURCE_EXHAUSTED says is an overload.
     */
    private static boolean contextFull(String message) {
        return message.startsWith("message.content: does not fit") || message.startsWith("context full");
    }

    /** "message.content: 40000 bytes ..." names message.content; a message without such a prefix names nothing. */
    private static String fieldOf(String message) {
        int colon = message.indexOf(": ");
        if (colon <= 0) {
            return null;
        }
        String head = message.substring(0, colon);
        return head.matches("[A-Za-z_][A-Za-z0-9_.\\[\\]-]*") ? head : null;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}

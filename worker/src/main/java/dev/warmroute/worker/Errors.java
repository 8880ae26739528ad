package dev.warmroute.worker;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The statuses the worker answers with, built in one place so every message has the same shape: the field or the
 * component first, then what is wrong, then the limit (chat.proto's error model).
 */
public final class Errors {

    private Errors() {}

    /** Bad input: {@code field: problem}. Nothing was written. */
    public static StatusRuntimeException invalid(String field, String problem) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + problem).asRuntimeException();
    }

    public static StatusRuntimeException notFound(String sessionId) {
        return Status.NOT_FOUND.withDescription("session '" + sessionId + "' does not exist").asRuntimeException();
    }

    public static StatusRuntimeException alreadyExists(String message) {
        return Status.ALREADY_EXISTS.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException aborted(String message) {
        return Status.ABORTED.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException exhausted(String message) {
        return Status.RESOURCE_EXHAUSTED.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException unavailable(String message) {
        return Status.UNAVAILABLE.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException failedPrecondition(String message) {
        return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
    }

    /**
     * A bug: the client gets an error id that also appears in the log line with the stack trace (never UNKNOWN).
     */
    public static StatusRuntimeException internal(String errorId, Throwable cause) {
        return Status.INTERNAL.withDescription("internal error " + errorId + " (see the worker log): "
                + cause.getClass().getSimpleName()).asRuntimeException();
    }

    /** The status of any throwable: ours as they are, anything else INTERNAL with an id (the caller logs it). */
    public static Status statusOf(Throwable t) {
        if (t instanceof StatusRuntimeException sre) {
            return sre.getStatus();
        }
        if (t instanceof io.grpc.StatusException se) {
            return se.getStatus();
        }
        return null;
    }
}

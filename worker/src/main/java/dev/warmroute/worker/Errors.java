package dev.warmroute.worker;

import dev.warmroute.cluster.RequestChecks;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The statuses the worker answers with, built in one place so every message has the same shape: the field or the
 * component first, then what is wrong, then the limit (chat.proto's error model).
 */
public final class Errors {

    private Errors() {}

    /** Bad input: {@code field: problem}, in the shape of {@link RequestChecks}' (one for workers and routers). */
    public static StatusRuntimeException invalid(String field, String problem) {
        return RequestChecks.invalid(field, problem);
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

    /** The status of a gRPC exception, null for anything else (a bug: {@code InternalErrors} turns it into INTERNAL). */
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

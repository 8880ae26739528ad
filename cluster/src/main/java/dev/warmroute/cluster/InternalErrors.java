package dev.warmroute.cluster;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * What a server answers when one of its own handlers fails unexpectedly: never UNKNOWN with a stack trace, but
 * INTERNAL with a short error id that is also in the log line with the stack trace, so a person holding the client's
 * message can find the cause. Workers and routers answer alike.
 */
public final class InternalErrors {

    private final String role;
    private final Logger log;
    private final String event;

    /**
     * @param role  "worker" or "router": the log the message points to
     * @param log   where the failure is logged (the handler's own logger)
     * @param event the log event of a failed unary call, e.g. {@code call.error}
     */
    public InternalErrors(String role, Logger log, String event) {
        this.role = role;
        this.log = log;
        this.event = event;
    }

    /** A fresh id that ties the client's message to the log line. */
    public static String newId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /** INTERNAL naming the id and the log to read; the caller has logged {@code cause} with the id. */
    public StatusRuntimeException status(String errorId, Throwable cause) {
        return Status.INTERNAL.withDescription("internal error " + errorId + " (see the " + role + " log): "
                + cause.getClass().getSimpleName()).asRuntimeException();
    }

    /** Logs {@code cause} with a fresh id (the event given at construction) and returns the status naming it. */
    public StatusRuntimeException report(Throwable cause) {
        String errorId = newId();
        log.error("{} error_id={}", event, errorId, cause);
        return status(errorId, cause);
    }

    /**
     * Runs a unary handler and answers with its result; a status it throws goes to the client as it is, anything
     * else is {@link #report reported}.
     */
    public <T> void unary(StreamObserver<T> out, Supplier<T> handler) {
        T result;
        try {
            result = handler.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RuntimeException e) {
            out.onError(report(e));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }
}

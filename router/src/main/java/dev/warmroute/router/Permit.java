package dev.warmroute.router;

import io.grpc.Status;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Permission to run one call on one worker, from {@link WorkerHandle#tryAcquire} (a placed call: SendMessage,
 * CreateSession) or {@link WorkerHandle#tryAcquireCall} (a forwarded unary call). It holds what the call takes from
 * the worker: an in-flight slot (the load the load bound counts), a place in the bulkhead and the breaker's
 * permission, each only if it was taken.
 *
 * <p>The call ends with exactly one outcome, which gives everything back and tells the breaker what the call said
 * about the worker (the shape of Netflix concurrency-limits' {@code Limiter.Listener}):
 * <ul>
 *   <li>{@link #onSuccess()}: the worker did its job; a client error it answered (INVALID_ARGUMENT, NOT_FOUND, ...)
 *       is a success too;
 *   <li>{@link #onFailed(Status)}: the call failed; {@link FailurePolicy#countsAgainstWorker} decides whether the
 *       breaker counts it (UNAVAILABLE and DEADLINE_EXCEEDED do); RESOURCE_EXHAUSTED is load, and gives the breaker's
 *       permission back without an outcome, as a cancellation does;
 *   <li>{@link #onCancelled()}: the client gave up; that says nothing about the worker, so the breaker's permission is
 *       given back without an outcome.
 * </ul>
 * The first outcome wins and the others are no-ops: a call's end can be reported from the worker's callbacks and from
 * the turn's own decision to stop it, and must not be counted twice.
 *
 * <p>Until its outcome a permit is one of the worker's running calls: when the worker leaves the cluster the router
 * abandons them ({@link #whenAbandoned}), so their turns move on instead of waiting for the client's deadline.
 */
public final class Permit implements Admission {

    /** Something running under a permit that must stop when the worker leaves (a turn's relay). */
    public interface Abandonable {
        /** The router gives up on the worker: end the call so the turn can move on. */
        void abandon(String reason);
    }

    private final WorkerHandle worker;
    /** A placed call's permit: it holds an in-flight slot and a bulkhead place besides the breaker's permission. */
    private final boolean placed;
    private final long acquiredNanos = System.nanoTime();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile String abandoned;
    private volatile Abandonable call;

    Permit(WorkerHandle worker, boolean placed) {
        this.worker = worker;
        this.placed = placed;
    }

    public WorkerHandle worker() {
        return worker;
    }

    /** True once an outcome was reported. */
    public boolean ended() {
        return ended.get();
    }

    /** The reason the router gave up on the worker while this permit was out, or null. */
    public String abandoned() {
        return abandoned;
    }

    /** The call completed and the worker did its job. Returns false when an outcome was already reported. */
    public boolean onSuccess() {
        if (!end()) {
            return false;
        }
        worker.breaker().onSuccess(System.nanoTime() - acquiredNanos, TimeUnit.NANOSECONDS);
        return true;
    }

    /** The client cancelled: no outcome for the breaker. Returns false when an outcome was already reported. */
    public boolean onCancelled() {
        if (!end()) {
            return false;
        }
        worker.breaker().releasePermission();
        return true;
    }

    /**
     * The call failed with {@code status}; the breaker records it as a failure when it counts against the worker
     * (its config's {@code recordException}), as a success otherwise; load (RESOURCE_EXHAUSTED) gets no outcome at
     * all, so a full worker neither opens its breaker nor dilutes its failure rate. Returns false when an outcome was
     * already reported.
     */
    public boolean onFailed(Status status) {
        if (!end()) {
            return false;
        }
        if (FailurePolicy.isLoad(status)) {
            worker.breaker().releasePermission();
            return true;
        }
        worker.breaker().onError(System.nanoTime() - acquiredNanos, TimeUnit.NANOSECONDS,
                status.asRuntimeException());
        return true;
    }

    /** Gives back the slot and the bulkhead place (if held), once; the caller then reports to the breaker. */
    private boolean end() {
        if (!ended.compareAndSet(false, true)) {
            return false;
        }
        worker.ended(this, placed);
        return true;
    }

    /**
     * Sets what to stop when the worker leaves; at once if it has left already. Set it before the call starts, so
     * that a worker leaving at any moment after is seen.
     */
    public void whenAbandoned(Abandonable c) {
        call = c;
        String reason = abandoned;
        if (reason != null) {
            c.abandon(reason);
        }
    }

    /** The worker left (called by {@link WorkerHandle#close}). */
    void abandon(String reason) {
        abandoned = reason;
        Abandonable c = call;
        if (c != null) {
            c.abandon(reason);
        }
    }
}

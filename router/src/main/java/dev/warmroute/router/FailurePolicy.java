package dev.warmroute.router;

import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import dev.warmroute.cluster.store.StoreErrors;
import io.grpc.Status;
import java.time.Duration;
import java.util.Set;

/**
 * Which failures say something about a worker, and what the router does about them.
 *
 * <p>Only UNAVAILABLE (down, starting, stopping, connection refused or reset) and DEADLINE_EXCEEDED (hung) count
 * against a worker's breaker. Client errors (INVALID_ARGUMENT, NOT_FOUND, ABORTED, ...) mean the worker did its job; a
 * cancellation by the client says nothing about the worker, so its breaker permission is given back without an
 * outcome. Counting those would let one bad client open every breaker.
 *
 * <p>RESOURCE_EXHAUSTED is load, not failure: a full worker (its compute queue is full) is healthy and busy, and so is
 * one whose turn did not fit (a full context or KV budget). It gives its breaker permission back without an outcome,
 * like a cancellation ({@link #isLoad}, {@link Permit#onFailed}). Counting it would open every breaker at 10x load
 * and turn an overload into an outage: clients would get UNAVAILABLE "gave up" after the breakers opened instead of a
 * fast RESOURCE_EXHAUSTED, and the cluster would refuse turns for seconds after the load was gone.
 *
 * <p>A worker's UNAVAILABLE that says the history store failed ({@link StoreErrors#isStoreStatus}) does not count
 * either: every worker shares the store, and breakers opened by a store outage would keep the whole cluster refusing
 * turns after the store's return. It is still retried on another worker (a worker on the minority side of a split
 * brain refuses what the majority can do).
 *
 * <p>A worker the router gave up on itself (it left the cluster while a call was running) is reported as
 * UNAVAILABLE, so it is retried and counted like a refused connection.
 */
public final class FailurePolicy {

    private static final Set<Status.Code> WORKER_FAULTS = Set.of(Status.Code.UNAVAILABLE,
            Status.Code.DEADLINE_EXCEEDED);

    /**
     * How many other workers a turn refused with RESOURCE_EXHAUSTED before its first token is tried on: one. Under
     * overload a second try finds the cluster full as often as not, and every try costs the client time; answering
     * RESOURCE_EXHAUSTED with retry-after at once is the fast, honest answer.
     */
    public static final int LOAD_RETRIES = 1;

    /**
     * How a turn's record of a worker that was full begins (placement's {@code excluded} reasons): a worker that
     * answered RESOURCE_EXHAUSTED, or was at its capacity when admitted. Placement reads it as
     * {@link PlacementDecision.SkipKind#FULL}, and a session that leaves a full worker gets a
     * {@link Binding.Kind#SPILLED} binding.
     */
    public static final String FULL = "RESOURCE_EXHAUSTED";

    private FailurePolicy() {}

    /** True when the failure counts against the worker's breaker. */
    public static boolean countsAgainstWorker(Throwable t) {
        Status s = Status.fromThrowable(t);
        return WORKER_FAULTS.contains(s.getCode()) && !StoreErrors.isStoreStatus(s.getDescription());
    }

    /** True for a worker that was too busy (or a turn that did not fit): load, never a failure of the worker. */
    public static boolean isLoad(Status status) {
        return status.getCode() == Status.Code.RESOURCE_EXHAUSTED;
    }

    /**
     * Before the client saw a token, the turn can go to another worker when this one could not take it: it is down
     * (UNAVAILABLE) or full (RESOURCE_EXHAUSTED: queue full; at most {@link #LOAD_RETRIES} other worker, counted by
     * the turn). DEADLINE_EXCEEDED is the client's own deadline here
     * (the router sets no shorter one), so there is no time left to retry.
     */
    public static boolean retryBeforeFirstToken(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.RESOURCE_EXHAUSTED;
    }

    /**
     * After tokens were streamed, only a worker that went away is worth resuming elsewhere. RESOURCE_EXHAUSTED in the
     * middle of an answer is the context or the KV budget running out: another worker would run out the same way.
     */
    public static boolean resumeAfterTokens(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE;
    }

    /** The resilience4j breaker of one worker, from the router's settings. */
    public static CircuitBreakerConfig breakerConfig(RouterConfig.BreakerSettings s) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(s.window())
                .minimumNumberOfCalls(s.minimumCalls())
                .failureRateThreshold(s.failureRate())
                .waitDurationInOpenState(s.openWait())
                .permittedNumberOfCallsInHalfOpenState(s.halfOpenCalls())
                // Placement skips workers whose breaker is OPEN, so no call would ever move it to HALF_OPEN:
                // the transition must happen on a timer.
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                // A half-open worker that gets no trial traffic (e.g. no session maps to it) is not stuck there.
                .maxWaitDurationInHalfOpenState(s.openWait().multipliedBy(4))
                .recordException(FailurePolicy::countsAgainstWorker)
                .writableStackTraceEnabled(false)
                .build();
    }

    /** The bulkhead of one worker: at most {@code maxConcurrent} calls, no waiting (a full worker is skipped). */
    public static BulkheadConfig bulkheadConfig(int maxConcurrent) {
        return BulkheadConfig.custom().maxConcurrentCalls(maxConcurrent).maxWaitDuration(Duration.ZERO)
                .writableStackTraceEnabled(false).build();
    }
}

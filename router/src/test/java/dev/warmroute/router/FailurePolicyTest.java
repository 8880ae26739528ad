package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FailurePolicyTest {

    private static CircuitBreaker breaker() {
        return CircuitBreaker.of("w", FailurePolicy.breakerConfig(RouterConfig.BreakerSettings.defaults()));
    }

    private static void fail(CircuitBreaker b, Status s) {
        assertTrue(b.tryAcquirePermission());
        b.onError(1, TimeUnit.MILLISECONDS, s.asRuntimeException());
    }

    @Test
    void onlyUnavailableAndDeadlineCountAgainstAWorker() {
        for (Status.Code c : Status.Code.values()) {
            boolean expected = c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED;
            assertEquals(expected, FailurePolicy.countsAgainstWorker(Status.fromCode(c).asRuntimeException()), c.name());
        }
    }

    @Test
    void fullWorkerDoesNotOpenBreaker() {
        // A worker whose queue is full answers RESOURCE_EXHAUSTED to every call; the breaker gets its permission back
        // without an outcome (Permit.onFailed), so 10x load leaves it closed and with nothing recorded.
        CircuitBreaker b = breaker();
        for (int i = 0; i < 50; i++) {
            assertTrue(b.tryAcquirePermission());
            Status full = Status.RESOURCE_EXHAUSTED.withDescription("worker overloaded: 2 turns running");
            assertTrue(FailurePolicy.isLoad(full));
            b.releasePermission();
        }
        assertEquals(CircuitBreaker.State.CLOSED, b.getState());
        assertEquals(0, b.getMetrics().getNumberOfBufferedCalls(), "load is no outcome at all");
        assertFalse(FailurePolicy.countsAgainstWorker(Status.RESOURCE_EXHAUSTED.asRuntimeException()),
                "even recorded, it would not be a failure");
    }

    @Test
    void unavailableAndDeadlineStillOpenBreakerAmidLoad() {
        CircuitBreaker b = breaker();
        for (int i = 0; i < 10; i++) {
            assertTrue(b.tryAcquirePermission());
            b.releasePermission(); // full: no outcome
        }
        fail(b, Status.UNAVAILABLE);
        fail(b, Status.DEADLINE_EXCEEDED);
        fail(b, Status.UNAVAILABLE);
        fail(b, Status.UNAVAILABLE);
        assertEquals(CircuitBreaker.State.OPEN, b.getState(), "load refusals neither hide nor dilute real failures");
    }

    @Test
    void aStoreOutageReportedByAWorkerDoesNotCountAgainstIt() {
        Status store = Status.UNAVAILABLE.withDescription("history store: commit of turn 3 of session s failed,"
                + " [store unavailable] PostgreSQL store //db:5432/warmroute unavailable");
        assertFalse(FailurePolicy.countsAgainstWorker(store.asRuntimeException()));
        assertTrue(FailurePolicy.retryBeforeFirstToken(store), "still retried on another worker");
        CircuitBreaker b = breaker();
        for (int i = 0; i < 20; i++) {
            fail(b, store);
        }
        assertEquals(CircuitBreaker.State.CLOSED, b.getState());
    }

    @Test
    void breakerOpensAfterHalfOfAtLeastFourCallsFailed() {
        CircuitBreaker b = breaker();
        fail(b, Status.UNAVAILABLE);
        fail(b, Status.UNAVAILABLE);
        fail(b, Status.UNAVAILABLE);
        assertEquals(CircuitBreaker.State.CLOSED, b.getState(), "3 calls are below the minimum of 4");
        fail(b, Status.DEADLINE_EXCEEDED);
        assertEquals(CircuitBreaker.State.OPEN, b.getState());
        assertFalse(b.tryAcquirePermission(), "an open breaker refuses calls");
    }

    @Test
    void clientErrorsAndCancellationsNeverOpenTheBreaker() {
        CircuitBreaker b = breaker();
        for (int i = 0; i < 20; i++) {
            fail(b, Status.INVALID_ARGUMENT);
            fail(b, Status.NOT_FOUND);
            fail(b, Status.ABORTED);
            assertTrue(b.tryAcquirePermission());
            b.releasePermission(); // a cancelled call: no outcome
        }
        assertEquals(CircuitBreaker.State.CLOSED, b.getState());
        assertEquals(0, b.getMetrics().getNumberOfFailedCalls());
    }

    @Test
    void retriesBeforeTheFirstTokenOnlyWhatAnotherWorkerCanDoBetter() {
        assertTrue(FailurePolicy.retryBeforeFirstToken(Status.UNAVAILABLE));
        assertTrue(FailurePolicy.retryBeforeFirstToken(Status.RESOURCE_EXHAUSTED));
        assertFalse(FailurePolicy.retryBeforeFirstToken(Status.ABORTED));
        assertFalse(FailurePolicy.retryBeforeFirstToken(Status.INVALID_ARGUMENT));
        assertFalse(FailurePolicy.retryBeforeFirstToken(Status.DEADLINE_EXCEEDED));
        assertTrue(FailurePolicy.resumeAfterTokens(Status.UNAVAILABLE));
        assertFalse(FailurePolicy.resumeAfterTokens(Status.RESOURCE_EXHAUSTED), "a full context fails everywhere");
        assertEquals(1, FailurePolicy.LOAD_RETRIES, "a full worker's turn is tried on one other worker, no more");
    }

    @Test
    void openBreakerTurnsHalfOpenByItselfAfterTheWait() throws Exception {
        CircuitBreaker b = CircuitBreaker.of("w", FailurePolicy.breakerConfig(
                new RouterConfig.BreakerSettings(4, 50, 2, Duration.ofMillis(200), 1)));
        fail(b, Status.UNAVAILABLE);
        fail(b, Status.UNAVAILABLE);
        assertEquals(CircuitBreaker.State.OPEN, b.getState());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.getState() == CircuitBreaker.State.OPEN && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(CircuitBreaker.State.HALF_OPEN, b.getState(), "placement skips open workers, so no call "
                + "would move the breaker on: it must move by itself");
        assertTrue(b.tryAcquirePermission());
        b.onSuccess(1, TimeUnit.MILLISECONDS);
        assertEquals(CircuitBreaker.State.CLOSED, b.getState());
    }

    @Test
    void bulkheadRefusesAtOnceWhenFull() {
        Bulkhead h = Bulkhead.of("w", FailurePolicy.bulkheadConfig(2));
        assertTrue(h.tryAcquirePermission());
        assertTrue(h.tryAcquirePermission());
        // "At once" is the config, not a stopwatch: no wait for a permit (a timed check fails on a loaded machine).
        assertEquals(Duration.ZERO, h.getBulkheadConfig().getMaxWaitDuration(), "must not wait for a permit");
        assertFalse(h.tryAcquirePermission());
        h.onComplete();
        assertTrue(h.tryAcquirePermission());
    }
}

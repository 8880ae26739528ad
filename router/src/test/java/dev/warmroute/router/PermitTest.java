package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.WorkerRegistration;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Permit} against a real {@link WorkerHandle} with resilience4j's breaker and bulkhead as the router configures
 * them: what a call takes, that exactly one outcome gives it back, and what each outcome tells the breaker.
 */
class PermitTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<WorkerHandle> handles = new ArrayList<>();

    private WorkerHandle worker(int bulkhead) {
        long now = System.currentTimeMillis();
        // Nothing listens on the address: the channel connects only when a call is made, and none is.
        WorkerHandle h = new WorkerHandle(new WorkerRegistration("w", "127.0.0.1:1", 2, "m", "", now, now),
                CircuitBreaker.of("w", FailurePolicy.breakerConfig(RouterConfig.BreakerSettings.defaults())),
                Bulkhead.of("w", FailurePolicy.bulkheadConfig(bulkhead)), timer, 64 * 1024);
        handles.add(h);
        return h;
    }

    @AfterEach
    void close() {
        handles.forEach(h -> h.close("test over"));
        timer.shutdownNow();
    }

    private static Permit granted(Admission a) {
        return assertInstanceOf(Permit.class, a);
    }

    @Test
    void aPlacedCallTakesASlotABulkheadPlaceAndTheBreakersPermissionAndTheOutcomeGivesThemBack() {
        WorkerHandle h = worker(4);
        Permit p = granted(h.tryAcquire(0));
        assertEquals(1, h.inFlight());
        assertEquals(1, h.peakInFlight());
        assertEquals(1, h.turnsRouted());
        assertEquals(3, h.bulkhead().getMetrics().getAvailableConcurrentCalls());

        assertTrue(p.onSuccess());
        assertEquals(0, h.inFlight());
        assertEquals(4, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        assertEquals(1, h.breaker().getMetrics().getNumberOfSuccessfulCalls());
    }

    @Test
    void onlyTheFirstOutcomeCountsTheOthersAreNoOps() {
        WorkerHandle h = worker(4);
        Permit p = granted(h.tryAcquire(0));
        assertTrue(p.onFailed(Status.UNAVAILABLE));
        assertFalse(p.onSuccess());
        assertFalse(p.onCancelled());
        assertFalse(p.onFailed(Status.UNAVAILABLE));
        assertTrue(p.ended());
        assertEquals(0, h.inFlight(), "the slot is given back once, not once per outcome");
        assertEquals(4, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        assertEquals(1, h.breaker().getMetrics().getNumberOfFailedCalls());
        assertEquals(0, h.breaker().getMetrics().getNumberOfSuccessfulCalls());
    }

    @Test
    void outcomesReportedAtOnceFromSeveralThreadsEndThePermitOnce() throws Exception {
        WorkerHandle h = worker(64);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < 200; round++) {
                Permit p = granted(h.tryAcquire(0));
                CyclicBarrier go = new CyclicBarrier(3);
                List<Future<Boolean>> ends = List.of(
                        pool.submit(() -> { go.await(); return p.onSuccess(); }),
                        pool.submit(() -> { go.await(); return p.onCancelled(); }),
                        // A client error: a worker fault would soon open the breaker and end the test's admissions.
                        pool.submit(() -> { go.await(); return p.onFailed(Status.NOT_FOUND); }));
                int won = 0;
                for (Future<Boolean> f : ends) {
                    won += f.get() ? 1 : 0;
                }
                assertEquals(1, won, "round " + round);
                assertEquals(0, h.inFlight(), "round " + round);
            }
            assertEquals(64, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void overloadIsNoOutcomeForTheBreakerAndIsRetriedBeforeTheFirstTokenButNotResumed() {
        WorkerHandle h = worker(4);
        // RESOURCE_EXHAUSTED from a worker (its queue is full) is load: the breaker gets its permission back without
        // an outcome; it is a reason to try another candidate before any token was sent, and no reason to resume
        // after (a full context fails everywhere).
        assertTrue(granted(h.tryAcquire(0)).onFailed(Status.RESOURCE_EXHAUSTED.withDescription("queue full")));
        assertEquals(0, h.breaker().getMetrics().getNumberOfFailedCalls());
        assertEquals(0, h.breaker().getMetrics().getNumberOfBufferedCalls());
        assertTrue(FailurePolicy.retryBeforeFirstToken(Status.RESOURCE_EXHAUSTED));
        assertFalse(FailurePolicy.resumeAfterTokens(Status.RESOURCE_EXHAUSTED));
        assertEquals(0, h.inFlight());
    }

    @Test
    void aWorkerAtItsAdvertisedCapacityRefusesCountingTheOtherRoutersTurns() {
        long now = System.currentTimeMillis();
        // capacity 2, queue 16, and the worker reports one turn of another router in flight
        WorkerRegistration r = new WorkerRegistration("w", "127.0.0.1:1", 2, "m", "", now, now, 16,
                Map.of("router-b", 1, "router-a", 5), now);
        WorkerHandle h = new WorkerHandle(r,
                CircuitBreaker.of("w", FailurePolicy.breakerConfig(RouterConfig.BreakerSettings.defaults())),
                Bulkhead.of("w", FailurePolicy.bulkheadConfig(64)), timer, 64 * 1024, 0, () -> "router-a", () -> { });
        handles.add(h);
        assertEquals(1, h.othersInFlight(), "its own turns (router-a) are counted exactly, not from the report");
        assertEquals(2, h.admissionLimit());
        Permit p = granted(h.tryAcquire(0));
        Admission.Refusal full = assertInstanceOf(Admission.Refusal.class, h.tryAcquire(0));
        assertEquals(Admission.Why.AT_CAPACITY, full.why());
        assertTrue(full.reason().startsWith(FailurePolicy.FULL), full.reason());
        assertEquals(0, h.bulkhead().getBulkheadConfig().getMaxConcurrentCalls()
                - h.bulkhead().getMetrics().getAvailableConcurrentCalls() - 1, "the refusal took no bulkhead place");
        p.onSuccess();
        assertInstanceOf(Permit.class, h.tryAcquire(0)).onSuccess();
    }

    @Test
    void aClientErrorIsASuccessForTheBreakerAndACancellationIsNoOutcomeAtAll() {
        WorkerHandle h = worker(4);
        assertTrue(granted(h.tryAcquire(0)).onFailed(Status.INVALID_ARGUMENT.withDescription("content: too long")));
        assertEquals(0, h.breaker().getMetrics().getNumberOfFailedCalls());
        assertEquals(1, h.breaker().getMetrics().getNumberOfSuccessfulCalls());
        assertTrue(granted(h.tryAcquire(0)).onCancelled());
        assertEquals(1, h.breaker().getMetrics().getNumberOfBufferedCalls(), "a cancelled call is not recorded");
        assertEquals(0, h.inFlight());
    }

    @Test
    void aWorkerAtItsLoadBoundRefusesWithoutTouchingBulkheadOrBreaker() {
        WorkerHandle h = worker(4);
        Permit first = granted(h.tryAcquire(1));
        Admission.Refusal r = assertInstanceOf(Admission.Refusal.class, h.tryAcquire(1));
        assertEquals(Admission.Why.AT_LOAD_BOUND, r.why());
        assertEquals(1, h.inFlight());
        assertEquals(3, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        assertEquals(1, h.turnsRouted(), "a refused call is not a routed turn");
        Permit over = granted(h.tryAcquire(0)); // 0: whatever the load (placement found nothing under the bound)
        assertEquals(2, h.inFlight());
        first.onSuccess();
        over.onSuccess();
    }

    @Test
    void aFullBulkheadOrAnOpenBreakerRefusesAndGivesBackWhatWasTaken() {
        WorkerHandle h = worker(1);
        Permit p = granted(h.tryAcquire(0));
        Admission.Refusal full = assertInstanceOf(Admission.Refusal.class, h.tryAcquire(0));
        assertEquals(new Admission.Refusal("w", Admission.Why.BULKHEAD_FULL, "bulkhead full (1 calls in flight)"),
                full);
        assertEquals("bulkhead_full", full.why().metric());
        assertEquals(1, h.inFlight(), "the refused call's slot was given back");
        p.onSuccess();

        h.breaker().transitionToOpenState();
        Admission.Refusal open = assertInstanceOf(Admission.Refusal.class, h.tryAcquire(0));
        assertEquals(new Admission.Refusal("w", Admission.Why.BREAKER_OPEN, "breaker open, no trial call free"),
                open);
        assertEquals("breaker_open", open.why().metric());
        assertEquals(0, h.inFlight());
        assertEquals(1, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        assertEquals(new Admission.Refusal("w", Admission.Why.BREAKER_OPEN, "breaker open"), h.tryAcquireCall());
    }

    @Test
    void aForwardedCallTakesOnlyTheBreakersPermission() {
        WorkerHandle h = worker(1);
        Permit p = granted(h.tryAcquireCall());
        assertEquals(0, h.inFlight());
        assertEquals(0, h.turnsRouted());
        assertEquals(1, h.bulkhead().getMetrics().getAvailableConcurrentCalls());
        assertTrue(p.onSuccess());
        assertEquals(0, h.inFlight());
        assertEquals(1, h.breaker().getMetrics().getNumberOfSuccessfulCalls());
    }

    @Test
    void aWorkerThatLeavesAbandonsTheCallsRunningUnderItsPermits() {
        WorkerHandle h = worker(4);
        Permit running = granted(h.tryAcquire(0));
        Permit done = granted(h.tryAcquire(0));
        List<String> abandoned = new CopyOnWriteArrayList<>();
        running.whenAbandoned(abandoned::add);
        AtomicReference<String> afterEnd = new AtomicReference<>();
        done.whenAbandoned(afterEnd::set);
        done.onSuccess();

        h.close("member lost");
        assertEquals(List.of("worker w left the cluster (member lost)"), abandoned);
        assertEquals("worker w left the cluster (member lost)", running.abandoned());
        assertNull(afterEnd.get(), "an ended permit is no longer the worker's");

        // Admitted just as the worker left: the call is abandoned as soon as it says what to stop.
        Permit late = granted(h.tryAcquire(0));
        List<String> lateAbandoned = new ArrayList<>();
        late.whenAbandoned(lateAbandoned::add);
        assertEquals(List.of("worker w left the cluster"), lateAbandoned);
        running.onFailed(Status.UNAVAILABLE);
        late.onCancelled();
        assertEquals(0, h.inFlight());
    }
}

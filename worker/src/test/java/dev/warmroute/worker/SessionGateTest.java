package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SessionGateTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void letsOneTurnOfASessionInAndTheNextOneWhenItEnds() throws Exception {
        SessionGate gate = new SessionGate(4, Duration.ofSeconds(30), timer);
        CompletableFuture<SessionGate.Permit> first = gate.acquire("s");
        CompletableFuture<SessionGate.Permit> second = gate.acquire("s");
        CompletableFuture<SessionGate.Permit> other = gate.acquire("t");
        assertTrue(first.isDone());
        assertTrue(other.isDone(), "other sessions are not held up");
        assertFalse(second.isDone());
        first.get().close();
        assertTrue(second.isDone());
        first.get().close(); // idempotent: must not release the second holder's permit
        assertFalse(gate.acquire("s").isDone());
    }

    @Test
    void abortsAWaitThatRunsOut() {
        SessionGate gate = new SessionGate(4, Duration.ofMillis(50), timer);
        gate.acquire("s");
        CompletableFuture<SessionGate.Permit> waiting = gate.acquire("s");
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> waiting.get(10, TimeUnit.SECONDS));
        StatusRuntimeException sre = assertInstanceOf(StatusRuntimeException.class, e.getCause());
        assertEquals(Status.Code.ABORTED, sre.getStatus().getCode());
        assertTrue(sre.getStatus().getDescription().contains("waited 50 ms"), sre.toString());
    }

    @Test
    void abortsAtOnceWhenTooManyWait() {
        SessionGate gate = new SessionGate(1, Duration.ofSeconds(30), timer);
        gate.acquire("s");
        gate.acquire("s");
        CompletableFuture<SessionGate.Permit> third = gate.acquire("s");
        assertTrue(third.isCompletedExceptionally());
    }

    @Test
    void aCancelledWaiterLeavesTheLine() throws Exception {
        SessionGate gate = new SessionGate(4, Duration.ofSeconds(30), timer);
        CompletableFuture<SessionGate.Permit> first = gate.acquire("s");
        CompletableFuture<SessionGate.Permit> quitter = gate.acquire("s");
        CompletableFuture<SessionGate.Permit> third = gate.acquire("s");
        quitter.cancel(false);
        first.get().close();
        assertTrue(third.isDone(), "the permit skips the waiter that gave up");
        third.get().close();
        assertEquals(0, gate.sessionsBusy());
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Cancellation mid-stream and per-session ordering, on real workers. */
class CancelAndOrderingTest extends OnTwoWorkers {

    private static Session session(String id) {
        return toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
    }

    /** On workers of its own: it checks every cache on the worker, which the class's other tests would fill. */
    @Test
    void aCancelMidStreamWritesNothingAndLeavesTheCacheConsistent() throws Exception {
        try (TwoWorkers own = TwoWorkers.start()) {
            aCancelMidStreamWritesNothingAndLeavesTheCacheConsistent(own.a(), own.toA());
        }
    }

    private static void aCancelMidStreamWritesNothingAndLeavesTheCacheConsistent(WorkerServer a, ChatClient toA)
            throws Exception {
        toA.create("cancel-1", "", ChatClient.greedy(400));
        ChatClient.Reply first = toA.ok(ChatClient.message("cancel-1", "c1", "Once upon a time"));
        int afterFirst = first.complete().getUsage().getPromptTokens() + first.complete().getUsage()
                .getGeneratedTokens();

        ChatClient.Reply cancelled = toA.send(ChatClient.message("cancel-1", "c2", "Tell me more."), ChatClient.TURN_DEADLINE,
                (deltas, cancel) -> {
                    if (deltas == 3) {
                        cancel.run();
                    }
                });
        assertEquals(Status.Code.CANCELLED, cancelled.status().getCode(), cancelled.toString());
        assertTrue(cancelled.deltas().size() >= 3);
        // The worker notices, stops and cuts its cache back: wait until the turn is over there.
        awaitIdle(a);
        assertEquals(1, toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("cancel-1").build())
                .getVersion(), "nothing written");
        assertEquals(afterFirst, a.caches().stats().getTokens(), "cache cut back to the committed history");

        ChatClient.Reply retry = toA.ok(ChatClient.message("cancel-1", "c2", "Tell me more."));
        assertEquals(CacheStatus.CACHE_STATUS_WARM, retry.complete().getCache().getStatus());
        assertEquals(afterFirst, retry.complete().getUsage().getReusedTokens());
        assertEquals(2, retry.complete().getVersion());
        // The interrupted stream was a prefix of the answer the retry produced.
        assertEquals(cancelled.streamedIds(), retry.streamedIds().subList(0, cancelled.streamedIds().size()));
        assertTrue(toA.stats().getTurns().getFailed() >= 1);
    }

    @Test
    void turnsOfOneSessionOnOneWorkerRunOneAfterTheOther() throws Exception {
        toA.create("order-1", "", ChatClient.greedy(60));
        List<CompletableFuture<ChatClient.Reply>> turns = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var req = ChatClient.message("order-1", "o" + i, "Message number " + i + ".");
            turns.add(CompletableFuture.supplyAsync(() -> toA.send(req)));
        }
        List<Long> versions = new ArrayList<>();
        for (var f : turns) {
            ChatClient.Reply t = f.get();
            assertTrue(t.ok(), "waited for its turn instead of failing: " + t);
            versions.add(t.complete().getVersion());
        }
        versions.sort(null);
        assertEquals(List.of(1L, 2L, 3L), versions, "each built on the previous one's commit");
        assertEquals(3, session("order-1").getTurnCount());
    }

    @Test
    void turnsOfOneSessionOnTwoWorkersNeverBothCommitOnTheSameVersion() throws Exception {
        toA.create("order-2", "", ChatClient.greedy(40));
        int ok = 0;
        int aborted = 0;
        for (int round = 0; round < 3; round++) {
            var onA = ChatClient.message("order-2", "a" + round, "From the first client " + round + ".");
            var onB = ChatClient.message("order-2", "b" + round, "From the second client " + round + ".");
            CompletableFuture<ChatClient.Reply> fa = CompletableFuture.supplyAsync(() -> toA.send(onA));
            CompletableFuture<ChatClient.Reply> fb = CompletableFuture.supplyAsync(() -> toB.send(onB));
            for (ChatClient.Reply t : List.of(fa.get(), fb.get())) {
                if (t.ok()) {
                    ok++;
                } else {
                    assertEquals(Status.Code.ABORTED, t.status().getCode(), t.toString());
                    assertTrue(t.status().getDescription().contains("nothing written"), t.toString());
                    aborted++;
                }
            }
        }
        assertEquals(ok, session("order-2").getTurnCount(), "every OK turn committed once, no ABORTED one did");
        assertTrue(ok >= 3, "at least one turn per round wins");
        assertEquals(6, ok + aborted);
    }

    @Test
    void aSecondTurnThatWaitsTooLongIsAborted() throws Exception {
        try (InProcessCluster<WorkerServer> own = TestWorkers.cluster();
             WorkerServer impatient = TestWorkers.add(own, config -> config.sessionWait(Duration.ofMillis(1))
                     .capacity(1));
             ChatClient c = new ChatClient(impatient.address())) {
            c.create("order-3", "", ChatClient.greedy(300));
            AtomicBoolean secondSent = new AtomicBoolean();
            CompletableFuture<ChatClient.Reply> second = new CompletableFuture<>();
            ChatClient.Reply first = c.send(ChatClient.message("order-3", "x1", "A long story please."), ChatClient.TURN_DEADLINE,
                    (deltas, cancel) -> {
                        if (deltas == 1 && secondSent.compareAndSet(false, true)) {
                            CompletableFuture.runAsync(() -> second.complete(
                                    c.send(ChatClient.message("order-3", "x2", "Another one."))));
                        }
                    });
            assertTrue(first.ok());
            ChatClient.Reply t2 = second.get();
            assertEquals(Status.Code.ABORTED, t2.status().getCode(), t2.toString());
            assertTrue(t2.status().getDescription().contains("previous turn of this session"), t2.toString());
            assertNotEquals(0, c.stats().getTurns().getAborted());
            assertEquals(1, c.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("order-3").build())
                    .getTurnCount());
        }
    }

    static void awaitIdle(WorkerServer w) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (w.stats().getInFlight() > 0 || w.stats().getQueued() > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("worker still busy");
            }
            Thread.sleep(5);
        }
    }
}

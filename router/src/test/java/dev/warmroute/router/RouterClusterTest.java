package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.testing.Await;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestCluster;
import dev.warmroute.testing.TestModel;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router with real workers: three worker JVMs on the tests' model ({@link TestModel}: the reference model, or a
 * synthetic one where it is absent) and two router JVMs ({@link RouterRole}), all on 127.0.0.1, sharing one
 * Hazelcast cluster. Each test starts a cluster of its own ({@link TestCluster}) and breaks it as it needs: warm
 * affinity through either router, load bound, kill -9 between turns, restart (with rebalancing on, the restarted
 * worker's old sessions stay where they are warm), a 4th worker joining (about 1/4 of the sessions move to it),
 * kill -9 mid-stream, and no worker at all.
 *
 * <p>Reference answers: a session's answers depend only on its settings, seed, id and messages (the sampler's draw is
 * derived from seed, session id, turn index and position), so a conversation is run once, its session deleted and
 * created again with the same id and seed, and the second run is compared with the first.
 */
class RouterClusterTest {

    private static final List<String> WORKERS = List.of("w1", "w2", "w3");

    @TempDir
    Path dir;

    private TestCluster cluster;
    private ChatClient r1;
    private ChatClient r2;

    /** w1, w2, w3 and routers r1 and r2: what most tests start; returns once both routers see all three serving. */
    private void start() throws Exception {
        start(WORKERS.size(), true);
    }

    /** Each test starts the cluster it needs (and may break it): {@code workers} workers, r1 and maybe r2. */
    private void start(int workers, boolean withR2) throws Exception {
        // r2 keeps a small window towards workers: with a stalled client, a worker stops a few dozen tokens ahead
        // (the mid-stream kill below needs the worker still generating when it dies).
        cluster = TestCluster.start(dir, workers, b -> withR2 ? b.router("r1").router("r2", "--worker-window-kb", "1")
                : b.router("r1"));
        r1 = cluster.clientOf("r1");
        r2 = withR2 ? cluster.clientOf("r2") : null;
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Set<String> serving(ClusterStatus s) {
        Set<String> ids = new HashSet<>();
        for (WorkerStatus w : s.getWorkersList()) {
            if (w.getHealth() == WorkerHealth.WORKER_HEALTH_SERVING) {
                ids.add(w.getWorkerId());
            }
        }
        return ids;
    }

    /** The first {@code n} ids {@code prefix-i} whose rendezvous hash prefers {@code worker} among all three. */
    private static List<String> preferring(String worker, String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; out.size() < n; i++) {
            String s = prefix + "-" + i;
            if (RendezvousHash.top(s, WORKERS).equals(worker)) {
                out.add(s);
            }
        }
        return out;
    }

    private static ChatClient.Reply ok(ChatClient via, String session, String requestId, String text) {
        return via.send(ChatClient.message(session, requestId, text)).assertContinuous();
    }

    @Test
    void aSessionGetsTheSameWorkerThroughEitherRouterTurnAfterTurnAndIsWarmFromTurnTwo() throws Exception {
        start();
        Set<String> used = new HashSet<>();
        for (int k = 0; k < 6; k++) {
            String s = "warm-" + k;
            r1.create(s, ChatClient.sampling(0.8f, 1000 + k, 12));
            String worker = null;
            for (int t = 0; t < 4; t++) {
                ChatClient via = t % 2 == 0 ? r1 : r2;
                ChatClient.Reply turn = ok(via, s, "t" + t, "Tell me what happens next, part " + t + ".");
                TurnComplete c = turn.complete();
                if (worker == null) {
                    worker = c.getWorkerId();
                    assertEquals(RendezvousHash.top(s, WORKERS), worker, "a new session goes to its hash's choice");
                    assertEquals(CacheStatus.CACHE_STATUS_COLD, c.getCache().getStatus());
                    assertEquals(CacheReason.CACHE_REASON_NEW_SESSION, c.getCache().getReason());
                } else {
                    assertEquals(worker, c.getWorkerId(), s + " turn " + t + " through " + (t % 2 == 0 ? "r1" : "r2"));
                    assertEquals(CacheStatus.CACHE_STATUS_WARM, c.getCache().getStatus(), s + " turn " + t);
                    assertEquals("warm", turn.trailer("x-warmroute-cache"));
                }
                assertEquals(t % 2 == 0 ? "r1" : "r2", c.getRouting().getRouterId());
                assertEquals(worker, c.getRouting().getPreferredWorker());
                assertFalse(c.getRouting().getFallback(), c.getRouting().toString());
                assertEquals(1, c.getRouting().getBindingEpoch(), "both routers read the same binding");
                assertEquals(worker, turn.trailer("x-warmroute-worker"));
                assertEquals(t + 1, c.getVersion());
            }
            used.add(worker);
        }
        assertTrue(used.size() >= 2, "six sessions all on one worker: " + used);

        // What the admin API says about it, from either router.
        Await.until(() -> r2.status().getClusterSafe(), "the cluster is safe (asked of a member)");
        ClusterStatus status = r1.admin().getClusterStatus(
                dev.warmroute.api.v1.GetClusterStatusRequest.newBuilder().setIncludeWorkerStats(true).build());
        assertEquals("r1", status.getRouterId());
        assertEquals(3, status.getClusterMembers());
        assertEquals(WORKERS, status.getWorkersList().stream().map(WorkerStatus::getWorkerId).toList());
        long bound = 0;
        for (WorkerStatus w : status.getWorkersList()) {
            assertEquals(WorkerHealth.WORKER_HEALTH_SERVING, w.getHealth());
            assertEquals(dev.warmroute.api.v1.BreakerState.BREAKER_STATE_CLOSED, w.getBreaker());
            assertEquals(w.getWorkerId(), w.getStats().getWorkerId(), "worker stats included");
            assertEquals(2, w.getCapacity());
            bound += w.getSessionsBound();
        }
        assertEquals(6, status.getSessionsBound());
        assertEquals(6, bound, "bound sessions counted per worker add up");
        assertEquals(6, status.getSessionsTotal());
        assertEquals(12, status.getTurnsTotal(), "r1 routed turns 0 and 2 of six sessions");
        assertEquals(6, status.getTurnsWarm());
        assertEquals(0.5, status.getWarmHitRate1M(), 1e-9);
        assertEquals(0, status.getTurnsFallback());
    }

    @Test
    void whenOneWorkerIsSaturatedNewTurnsSpillAndNoWorkerRunsAboveTheLoadBound() throws Exception {
        start(WORKERS.size(), false);
        // A skewed workload: twelve clients at once, every session hashed to w1. Plain hashing would run all twelve
        // on w1; the bound is ceil(1.25 x 12 / 3) = 5 turns per worker from this router.
        int clients = 12;
        List<String> hot = preferring("w1", "hot", clients);
        for (String s : hot) {
            r1.create(s, ChatClient.sampling(0.8f, 7, 24));
        }
        CyclicBarrier go = new CyclicBarrier(clients);
        List<CompletableFuture<List<ChatClient.Reply>>> runs = new ArrayList<>();
        for (String s : hot) {
            runs.add(CompletableFuture.supplyAsync(() -> {
                List<ChatClient.Reply> turns = new ArrayList<>();
                try {
                    go.await(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int t = 0; t < 3; t++) {
                    turns.add(r1.send(ChatClient.message(s, "t" + t, "Go on with the story, step " + t + ".")));
                }
                return turns;
            }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
        }
        AtomicBoolean done = new AtomicBoolean();
        Map<String, Integer> sampledMax = new HashMap<>();
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
            while (!done.get()) {
                for (WorkerStatus w : r1.status().getWorkersList()) {
                    sampledMax.merge(w.getWorkerId(), w.getInFlight(), Math::max);
                }
            }
        });
        int spilled = 0;
        int total = 0;
        for (var run : runs) {
            for (ChatClient.Reply t : run.get(240, TimeUnit.SECONDS)) {
                t.assertContinuous();
                total++;
                if (t.complete().getRouting().getFallback()) {
                    assertTrue(t.complete().getRouting().getFallbackReason().startsWith("over load bound"),
                            t.complete().getRouting().getFallbackReason());
                    spilled++;
                }
            }
        }
        done.set(true);
        sampler.get(30, TimeUnit.SECONDS);
        assertEquals(clients * 3, total);
        assertTrue(spilled > 0, "no turn spilled from the saturated worker");
        int bound = (int) Math.ceil(1.25 * clients / WORKERS.size());
        ClusterStatus status = r1.status();
        for (WorkerStatus w : status.getWorkersList()) {
            assertTrue(w.getPeakInFlight() <= bound, w.getWorkerId() + " ran " + w.getPeakInFlight()
                    + " turns at once, above the bound " + bound);
            assertTrue(sampledMax.getOrDefault(w.getWorkerId(), 0) <= bound);
        }
        System.out.printf("load bound: %d turns, %d spilled, peak in flight %s, bound %d%n", total, spilled,
                status.getWorkersList().stream().map(w -> w.getWorkerId() + "=" + w.getPeakInFlight()).toList(),
                bound);
    }

    @Test
    void killingAWorkerBetweenTurnsMovesItsSessionsColdWithTheSameAnswerAndNoClientError() throws Exception {
        start();
        killW2BetweenTurns();
    }

    /**
     * Four sessions on w2, each run once for its reference answers, then again up to its third turn; kill -9 of w2;
     * the third turns go elsewhere, cold, with the reference answers. Returns where each session went.
     */
    private Map<String, String> killW2BetweenTurns() throws Exception {
        Map<String, String> movedTo = new LinkedHashMap<>();
        List<String> sessions = preferring("w2", "between", 4);
        Map<String, List<String>> reference = new HashMap<>();
        for (int i = 0; i < sessions.size(); i++) {
            String s = sessions.get(i);
            SamplingParams sampling = ChatClient.sampling(0.8f, 4242 + i, 16);
            r1.create(s, sampling);
            List<String> answers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                ChatClient.Reply turn = ok(t % 2 == 0 ? r1 : r2, s, "t" + t, "What does the dog do in part " + t + "?");
                assertEquals("w2", turn.complete().getWorkerId());
                answers.add(turn.complete().getText());
            }
            reference.put(s, answers);
            r1.delete(s);
            r2.create(s, sampling);
            for (int t = 0; t < 2; t++) {
                ChatClient.Reply turn = ok(t % 2 == 0 ? r2 : r1, s, "t" + t, "What does the dog do in part " + t + "?");
                assertEquals("w2", turn.complete().getWorkerId());
                assertEquals(answers.get(t), turn.complete().getText(), "a re-created session answers the same");
            }
        }

        cluster.kill("w2");

        for (int i = 0; i < sessions.size(); i++) {
            String s = sessions.get(i);
            ChatClient via = i % 2 == 0 ? r1 : r2;
            long t0 = System.nanoTime();
            ChatClient.Reply turn = ok(via, s, "t2", "What does the dog do in part 2?");
            TurnComplete c = turn.complete();
            assertNotEquals("w2", c.getWorkerId());
            assertEquals(reference.get(s).get(2), c.getText(), "the cold answer equals the warm one");
            assertEquals(CacheStatus.CACHE_STATUS_COLD, c.getCache().getStatus(), c.getCache().toString());
            assertEquals("w2", c.getRouting().getPreferredWorker());
            assertTrue(c.getRouting().getFallback());
            assertFalse(c.getRouting().getFallbackReason().isEmpty());
            assertEquals(2, c.getRouting().getBindingEpoch(), "the session moved once");
            assertNotNull(turn.trailer("x-warmroute-fallback"));
            movedTo.put(s, c.getWorkerId());
            System.out.printf("after kill: %s -> %s via %s in %.0f ms (%s)%n", s, c.getWorkerId(),
                    c.getRouting().getRouterId(), (System.nanoTime() - t0) / 1e6, c.getRouting().getFallbackReason());
        }
        return movedTo;
    }

    @Test
    void theKilledWorkerRestartsKeepsAwayFromItsOldSessionsAndTakesNewOnes() throws Exception {
        start();
        Map<String, String> movedTo = killW2BetweenTurns();
        cluster.restart("w2");
        for (ChatClient r : List.of(r1, r2)) {
            Await.until(() -> serving(r.status()).containsAll(WORKERS), "routers see the restarted w2 serving");
        }
        assertEquals(4, movedTo.size());
        int i = 0;
        for (var e : movedTo.entrySet()) {
            ChatClient via = i++ % 2 == 0 ? r2 : r1;
            TurnComplete c = ok(via, e.getKey(), "t3", "And after that?").complete();
            assertEquals(e.getValue(), c.getWorkerId(), "the session stays where it is warm");
            assertEquals(CacheStatus.CACHE_STATUS_WARM, c.getCache().getStatus());
            assertFalse(c.getRouting().getFallback());
            assertEquals(2, c.getRouting().getBindingEpoch());
        }
        for (String s : preferring("w2", "fresh", 3)) {
            r1.create(s, ChatClient.sampling(0.8f, 5, 8));
            TurnComplete c = ok(r2, s, "t0", "Hello there.").complete();
            assertEquals("w2", c.getWorkerId(), "new sessions are placed on the restarted worker again");
            assertFalse(c.getRouting().getFallback());
            assertEquals(1, c.getRouting().getBindingEpoch());
        }

        // Deleting a session through a router removes its binding too.
        long bound = r1.status().getSessionsBound();
        r2.delete(preferring("w2", "fresh", 1).get(0));
        assertEquals(bound - 1, r1.status().getSessionsBound());
    }

    @Test
    void whenAFourthWorkerJoinsAboutAQuarterOfTheSessionsMoveToItOnTheirNextTurnAndAreWarmThereAfter()
            throws Exception {
        start();
        List<String> sessions = new ArrayList<>();
        Map<String, String> before = new HashMap<>();
        for (int i = 0; i < 24; i++) {
            String s = "join-" + i;
            sessions.add(s);
            r1.create(s, ChatClient.sampling(0.8f, 300 + i, 8));
            TurnComplete c = ok(i % 2 == 0 ? r1 : r2, s, "t0", "Once upon a time.").complete();
            assertEquals(RendezvousHash.top(s, WORKERS), c.getWorkerId(), "bound to the hash's first choice");
            assertFalse(c.getRouting().getFallback());
            before.put(s, c.getWorkerId());
        }
        long rebalancedBefore = r1.status().getTurnsRebalanced() + r2.status().getTurnsRebalanced();

        assertEquals("w4", cluster.addWorker().id());
        List<String> four = List.of("w1", "w2", "w3", "w4");
        for (ChatClient r : List.of(r1, r2)) {
            Await.until(() -> serving(r.status()).containsAll(four), "routers see w4 serving");
        }
        List<String> movers = new ArrayList<>();
        for (int i = 0; i < sessions.size(); i++) {
            String s = sessions.get(i);
            TurnComplete c = ok(i % 2 == 0 ? r2 : r1, s, "t1", "What happened next?").complete();
            if (RendezvousHash.top(s, four).equals("w4")) {
                movers.add(s);
                assertEquals("w4", c.getWorkerId(), s + " should move to the newcomer on its next turn");
                assertTrue(c.getRouting().getRebalanced(), c.getRouting().toString());
                assertEquals(before.get(s), c.getRouting().getRebalancedFrom());
                assertFalse(c.getRouting().getFallback(), "a rebalancing move is not a fallback");
                assertEquals(CacheStatus.CACHE_STATUS_COLD, c.getCache().getStatus(), "one cold turn on w4");
                assertEquals(2, c.getRouting().getBindingEpoch());
            } else {
                assertEquals(before.get(s), c.getWorkerId(), s + " stays where it is warm");
                assertFalse(c.getRouting().getRebalanced());
                assertEquals(CacheStatus.CACHE_STATUS_WARM, c.getCache().getStatus());
                assertEquals(1, c.getRouting().getBindingEpoch());
            }
            assertEquals("hybrid", c.getRouting().getPlacement());
        }
        double share = movers.size() / (double) sessions.size();
        assertTrue(share >= 0.1 && share <= 0.45, "moved share " + share + " of " + sessions.size());
        for (int i = 0; i < sessions.size(); i++) {
            String s = sessions.get(i);
            TurnComplete c = ok(i % 2 == 0 ? r1 : r2, s, "t2", "And then?").complete();
            assertEquals(movers.contains(s) ? "w4" : before.get(s), c.getWorkerId());
            assertEquals(CacheStatus.CACHE_STATUS_WARM, c.getCache().getStatus(), s + " is warm after the move");
            assertFalse(c.getRouting().getRebalanced());
        }
        ClusterStatus status = r1.status();
        assertEquals("hybrid", status.getPlacementMode());
        assertTrue(status.getRebalance());
        assertEquals(movers.size(), status.getTurnsRebalanced() + r2.status().getTurnsRebalanced()
                - rebalancedBefore, "both routers together report each move once");
        System.out.printf("join: %d of %d sessions moved to w4 (%.2f; 1/4 expected)%n", movers.size(),
                sessions.size(), share);
    }

    @Test
    void killingAWorkerMidStreamGivesTheClientOneContinuousCompleteAnswerCommittedOnce() throws Exception {
        start();
        // Find a conversation whose second answer is long (a few hundred tokens), so the worker is still generating
        // when it dies: a stalled reader holds it a few dozen tokens ahead of what the client received.
        String session = null;
        List<String> reference = null;
        SamplingParams sampling = null;
        for (int seed = 1; seed <= 40 && session == null; seed++) {
            String s = "mid-" + seed;
            SamplingParams p = ChatClient.sampling(1.0f, seed, 400);
            r2.create(s, p);
            String a0 = ok(r2, s, "t0", "Hi.").complete().getText();
            TurnComplete c1 = ok(r2, s, "t1", "Tell me a long story about a cat.").complete();
            if (c1.getUsage().getGeneratedTokens() >= 250) {
                session = s;
                reference = List.of(a0, c1.getText());
                sampling = p;
            }
            r2.delete(s);
        }
        assertNotNull(session, "no seed gave a long enough answer");
        r2.create(session, sampling);
        TurnComplete first = ok(r2, session, "t0", "Hi.").complete();
        assertEquals(reference.get(0), first.getText());
        String victim = first.getWorkerId();

        try (ChatClient slow = ChatClient.withWindow(cluster.router("r2").grpcAddress(), 1024)) {
            ChatClient.Paused paused = slow.sendPaused(ChatClient.message(session, "t1",
                    "Tell me a long story about a cat."), 4);
            Await.until(() -> paused.events().size() >= 4, "the client has TurnStarted and three deltas");
            cluster.kill(victim);
            paused.resume();
            ChatClient.Reply turn = paused.result().get(120, TimeUnit.SECONDS);
            turn.assertContinuous();
            TurnComplete c = turn.complete();
            assertTrue(c.getRouting().getResumed(), "the answer was not interrupted: " + c.getRouting());
            assertNotEquals(victim, c.getWorkerId());
            assertEquals(reference.get(1), c.getText(), "the resumed answer is the one the dead worker would have given");
            assertEquals(2, c.getVersion());
            System.out.printf("mid-stream: killed %s after %d events, resumed on %s (%s)%n", victim, 4,
                    c.getWorkerId(), c.getRouting().getFallbackReason());
        }
        Session stored = r1.get(session);
        assertEquals(2, stored.getTurnCount());
        List<ChatMessage> messages = stored.getMessagesList();
        assertEquals(4, messages.size(), "two turns, each once: " + messages);
        assertEquals(Role.ROLE_ASSISTANT, messages.get(3).getRole());
        assertEquals(reference.get(1), messages.get(3).getContent());
        assertEquals(reference.get(0), messages.get(1).getContent());
    }

    @Test
    void withNoWorkerAtAllTheRouterAnswersUnavailableQuicklyWithAClearMessage() throws Exception {
        start(1, true); // one worker is enough to lose
        cluster.kill("w1");
        for (ChatClient r : List.of(r1, r2)) {
            long t0 = System.nanoTime();
            ChatClient.Reply turn = r.send(ChatClient.message("nobody-home", "x", "Hello?"), Duration.ofSeconds(30));
            double ms = (System.nanoTime() - t0) / 1e6;
            assertEquals(Status.Code.UNAVAILABLE, turn.status().getCode(), turn.status().toString());
            String message = turn.status().getDescription();
            assertTrue(message.startsWith("no worker is serving") || message.startsWith("all "), message);
            System.out.printf("no worker: UNAVAILABLE after %.0f ms: %s%n", ms, message);
        }
    }
}

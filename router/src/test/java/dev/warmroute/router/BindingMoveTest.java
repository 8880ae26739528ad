package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link BindingMove} with a real {@link SessionRouter} over a real {@code bindings} map (a Hazelcast client of a
 * member in this JVM). The move's compare-and-set runs on an executor the test steps by hand, so "before the move is
 * done" and "after" are states the test holds, not moments it waits for.
 */
class BindingMoveTest {

    private static HazelcastInstance member;
    private static HazelcastInstance client;
    private static BindingStore store;
    private static WorkerDirectory directory;
    private static ScheduledExecutorService timer;

    /** Runs nothing until the test says so. */
    private static final class SteppedExecutor implements Executor {
        final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        /** Runs the next task on this thread (it must come within 10 s). */
        void runNext() throws InterruptedException {
            Runnable t = tasks.poll(10, TimeUnit.SECONDS);
            assertNotNull(t, "no task was handed to the executor");
            t.run();
        }
    }

    @BeforeAll
    static void cluster() throws Exception {
        String name = "move-" + UUID.randomUUID().toString().substring(0, 8);
        member = HazelcastFactory.startMember(HazelcastSettings.builder().clusterName(name).port(0).build(), Map.of(),
                List.of());
        String address = "127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort();
        HazelcastSettings settings = HazelcastSettings.builder().clusterName(name).members(List.of(address))
                .mode(HazelcastSettings.Mode.CLIENT).build();
        client = HazelcastClient.newHazelcastClient(HazelcastFactory.clientConfig(settings,
                "test-move-" + UUID.randomUUID(), List.of(new Binding.Serializer())));
        assertTrue(HazelcastFactory.awaitConnected(client, Duration.ofSeconds(60)));
        store = new BindingStore(client, Duration.ofSeconds(10), () -> "router-t");
        timer = Executors.newSingleThreadScheduledExecutor();
        directory = new WorkerDirectory(FailurePolicy.breakerConfig(RouterConfig.BreakerSettings.defaults()),
                FailurePolicy.bulkheadConfig(64), timer, Duration.ofSeconds(10), 64 * 1024);
    }

    @AfterAll
    static void stop() {
        if (directory != null) {
            directory.close();
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        for (HazelcastInstance hz : new HazelcastInstance[] {client, member}) {
            if (hz != null) {
                hz.shutdown();
            }
        }
    }

    private static SessionRouter router(PlacementPolicy policy, Executor blocking) {
        return new SessionRouter(directory, policy, store, null, blocking);
    }

    private static PlacementDecision to(String worker, Binding.Kind kind) {
        return PlacementDecision.chose(worker, worker, List.of(), 1, false, kind, 77);
    }

    private static String session() {
        return "s-" + UUID.randomUUID();
    }

    @Test
    void reportsTheEpochTheMoveWillWriteAtOnceAndTheStoresWhenDone() throws Exception {
        String s = session();
        store.bind(s, null, "w1");
        SteppedExecutor blocking = new SteppedExecutor();
        BindingMove move = router(new HybridPlacement(1.25), blocking).bindingMove(s);
        assertEquals("w1", move.binding().workerId());
        assertEquals(1, move.epoch());

        assertTrue(move.moveTo("w2", to("w2", Binding.Kind.FALLBACK)));
        assertEquals(2, move.epoch(), "RoutingInfo in TurnStarted already carries the epoch the move writes");
        assertEquals("w1", move.binding().workerId(), "not moved before the compare-and-set ran");
        blocking.runNext();
        assertEquals(new Binding("w2", 2, move.binding().boundAtMs(), "router-t", Binding.Kind.FALLBACK, 77),
                move.binding());
        assertEquals(move.binding(), store.getFresh(s));
    }

    @Test
    void aSessionOnItsBoundWorkerDoesNotMoveAndWaitsForNothing() throws Exception {
        String s = session();
        store.bind(s, null, "w1");
        SteppedExecutor blocking = new SteppedExecutor();
        BindingMove move = router(new HybridPlacement(1.25), blocking).bindingMove(s);
        assertFalse(move.moveTo("w1", to("w1", Binding.Kind.FALLBACK)));
        Thread caller = Thread.currentThread();
        AtomicInteger ranHere = new AtomicInteger();
        move.whenDone(() -> ranHere.addAndGet(Thread.currentThread() == caller ? 1 : 100));
        assertEquals(1, ranHere.get(), "with no move the action runs at once, on the caller's thread");
        assertTrue(blocking.tasks.isEmpty());
        assertEquals(1, move.epoch());
    }

    @Test
    void actionsWaitForTheMoveAndRunInTheOrderGiven() throws Exception {
        String s = session();
        SteppedExecutor blocking = new SteppedExecutor();
        BindingMove move = router(new HybridPlacement(1.25), blocking).bindingMove(s);
        assertNull(move.binding());
        assertTrue(move.moveTo("w3", to("w3", Binding.Kind.PREFERRED)));
        assertEquals(1, move.epoch(), "a new session's first binding is epoch 1");
        List<String> seen = new CopyOnWriteArrayList<>();
        move.whenDone(() -> seen.add("complete sent, bound to " + move.binding().workerId()));
        move.whenDone(() -> seen.add("stream closed"));
        assertTrue(seen.isEmpty(), "TurnComplete waits for the move");
        blocking.runNext();
        assertEquals(List.of("complete sent, bound to w3", "stream closed"), seen);
        assertEquals(Binding.Kind.PREFERRED, store.getFresh(s).kind());
    }

    @Test
    void twoMovesOfOneTurnRunOneAfterTheOtherFromWhereThePreviousLeftTheBinding() throws Exception {
        String s = session();
        store.bind(s, null, "w1");
        SteppedExecutor blocking = new SteppedExecutor();
        BindingMove move = router(new HybridPlacement(1.25), blocking).bindingMove(s);
        // The turn moved to w2, which failed mid-stream; w3 resumed it before the first move was written.
        assertTrue(move.moveTo("w2", to("w2", Binding.Kind.FALLBACK)));
        assertTrue(move.moveTo("w3", to("w3", Binding.Kind.FALLBACK)));
        assertEquals(3, move.epoch());
        assertEquals(1, blocking.tasks.size(), "the second move waits for the first");
        blocking.runNext();
        assertEquals("w2", store.getFresh(s).workerId());
        blocking.runNext();
        Binding now = store.getFresh(s);
        assertEquals("w3", now.workerId());
        assertEquals(3, now.epoch());
        assertNull(blocking.tasks.poll());
        assertFalse(move.moveTo("w3", to("w3", Binding.Kind.FALLBACK)), "already there");
    }

    @Test
    void aModeWithoutBindingsNeitherReadsNorMovesThem() throws Exception {
        String s = session();
        store.bind(s, null, "w1");
        SteppedExecutor blocking = new SteppedExecutor();
        BindingMove move = router(new HashPlacement(), blocking).bindingMove(s);
        assertNull(move.binding());
        assertFalse(move.moveTo("w2", to("w2", Binding.Kind.PREFERRED)));
        assertTrue(blocking.tasks.isEmpty());
        assertEquals(0, move.epoch());
    }
}

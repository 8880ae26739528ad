package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.WorkerStats;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker whose KV budget holds about three sessions serves eight: the budget is never exceeded, sessions evicted
 * to make room come back cold (reason EVICTED) with the answer a worker with room for all of them gives, and the
 * stats count the evictions.
 */
class EvictionTest {

    static final int SESSIONS = 8;
    /** 16 blocks of KV cache (16 positions each) of the model under test: about three sessions' worth. */
    static long BUDGET;

    @BeforeAll
    static void budget() {
        try (EngineModel model = EngineModel.load(TestModel.path(), 1)) {
            BUDGET = 16L * KvBlockPool.BLOCK_TOKENS * model.kvBytesPerToken();
        }
    }

    @Test
    void evictsLeastRecentlyUsedSessionsWithinTheBudgetAndRecomputesThemCold() throws Exception {
        try (InProcessCluster<WorkerServer> cluster = TestWorkers.cluster();
             WorkerServer small = TestWorkers.add(cluster, b -> b.kvCacheBytes(BUDGET));
             WorkerServer roomy = TestWorkers.add(cluster);
             ChatClient toSmall = new ChatClient(small.address());
             ChatClient toRoomy = new ChatClient(roomy.address())) {
            AtomicLong maxUsed = new AtomicLong();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = Thread.ofPlatform().daemon().start(() -> {
                while (watching.get()) {
                    maxUsed.accumulateAndGet(small.caches().bytesUsed(), Math::max);
                    Thread.onSpinWait();
                }
            });

            List<List<ChatClient.Reply>> onSmall = new ArrayList<>();
            List<List<ChatClient.Reply>> onRoomy = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                toSmall.create("ev-" + i, "", ChatClient.greedy(16));
                toRoomy.create("ref-" + i, "", ChatClient.greedy(16));
                onSmall.add(new ArrayList<>());
                onRoomy.add(new ArrayList<>());
            }
            String[] messages = {"A story about a %s.", "What did the %s do next?", "How did the %s feel?"};
            String[] animals = {"cat", "dog", "bird", "fish", "frog", "bear", "lion", "duck"};
            for (String message : messages) {
                for (int i = 0; i < SESSIONS; i++) {
                    String text = message.formatted(animals[i]);
                    onSmall.get(i).add(toSmall.ok(ChatClient.message("ev-" + i, "m" + onSmall.get(i).size(), text)));
                    onRoomy.get(i).add(toRoomy.ok(ChatClient.message("ref-" + i, "m" + onRoomy.get(i).size(), text)));
                    assertTrue(small.caches().bytesUsed() <= BUDGET);
                }
            }
            watching.set(false);
            watcher.join();

            int evictedTurns = 0;
            for (int i = 0; i < SESSIONS; i++) {
                for (int k = 0; k < messages.length; k++) {
                    ChatClient.Reply t = onSmall.get(i).get(k);
                    assertEquals(onRoomy.get(i).get(k).streamedIds(), t.streamedIds(), "session " + i + " turn " + k);
                    if (k > 0) {
                        assertEquals(CacheStatus.CACHE_STATUS_COLD, t.complete().getCache().getStatus(),
                                "round-robin over more sessions than fit: the LRU one is always gone");
                        assertEquals(CacheReason.CACHE_REASON_EVICTED, t.complete().getCache().getReason());
                        assertEquals("cold:evicted", t.trailer("x-warmroute-cache"));
                        evictedTurns++;
                    }
                }
            }
            assertTrue(maxUsed.get() <= BUDGET, "budget exceeded: " + maxUsed.get() + " > " + BUDGET);
            WorkerStats stats = toSmall.stats();
            assertEquals(BUDGET, stats.getKvCache().getBytesBudget());
            assertTrue(stats.getKvCache().getBytesUsed() <= BUDGET);
            assertTrue(stats.getKvCache().getEvictions() >= evictedTurns, stats.getKvCache().toString());
            assertEquals(SESSIONS * messages.length, stats.getKvCache().getMisses(), stats.getKvCache().toString());
            assertTrue(stats.getKvCache().getSessions() < SESSIONS);
            assertEquals(SESSIONS * messages.length, stats.getTurns().getCold());
            // The roomy worker kept every session warm after the first turn.
            assertEquals(SESSIONS * (messages.length - 1), toRoomy.stats().getTurns().getWarm());
            assertEquals(0, toRoomy.stats().getKvCache().getEvictions());
        }
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker in stateless mode next to a normal one (one cluster, the tests' model): the stateless worker computes
 * every prompt whole and says so, keeps no cache, and gives the same answers as the normal worker's warm path.
 */
class StatelessModeTest {

    private static InProcessCluster<WorkerServer> cluster;
    private static WorkerServer normal;
    private static WorkerServer stateless;
    private static ChatClient toNormal;
    private static ChatClient toStateless;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestWorkers.cluster();
        normal = TestWorkers.add(cluster);
        stateless = TestWorkers.add(cluster, b -> b.stateless(true));
        toNormal = new ChatClient(normal.address());
        toStateless = new ChatClient(stateless.address());
    }

    @AfterAll
    static void stop() {
        for (ChatClient c : new ChatClient[] {toNormal, toStateless}) {
            if (c != null) {
                c.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyTurnComputesItsWholePromptColdWithReasonStatelessAndAnswersAsTheWarmPathDoes() {
        // Greedy sampling: the session id does not enter the draw, so two sessions with the same messages answer alike.
        toNormal.create("kept", "You tell short stories.", ChatClient.greedy(16));
        toStateless.create("recomputed", "You tell short stories.", ChatClient.greedy(16));
        String[] messages = {"Tell me about a cat.", "And then what happened?", "How did it end?"};
        for (int i = 0; i < messages.length; i++) {
            ChatClient.Reply warm = toNormal.ok(ChatClient.message("kept", "r" + i, messages[i]));
            ChatClient.Reply cold = toStateless.ok(ChatClient.message("recomputed", "r" + i, messages[i]));
            assertEquals(warm.complete().getText(), cold.complete().getText(), "turn " + i);
            var usage = cold.complete().getUsage();
            assertEquals(CacheStatus.CACHE_STATUS_COLD, cold.complete().getCache().getStatus(), cold.toString());
            assertEquals(CacheReason.CACHE_REASON_STATELESS, cold.complete().getCache().getReason());
            assertEquals(CacheReason.CACHE_REASON_STATELESS, cold.started().getCache().getReason());
            assertEquals("cold:stateless", cold.trailer("x-warmroute-cache"));
            assertEquals(0, usage.getReusedTokens());
            assertEquals(usage.getPromptTokens(), usage.getComputedTokens());
            assertEquals(warm.complete().getUsage().getPromptTokens(), usage.getPromptTokens());
            if (i > 0) {
                assertEquals(CacheStatus.CACHE_STATUS_WARM, warm.complete().getCache().getStatus());
                assertTrue(usage.getComputedTokens() > warm.complete().getUsage().getComputedTokens());
            }
        }
        var stats = toStateless.stats();
        assertTrue(stats.getStateless());
        assertEquals(3, stats.getTurns().getCold());
        assertEquals(0, stats.getTurns().getWarm());
        assertEquals(0, stats.getTurns().getTokensReused());
        assertEquals(0, stats.getKvCache().getSessions(), "no cache is kept after a turn");
        assertEquals(0, stats.getKvCache().getBytesUsed());
        assertEquals(false, toNormal.stats().getStateless());
    }
}

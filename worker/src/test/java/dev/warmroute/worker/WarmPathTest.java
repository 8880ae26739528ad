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

/** One real worker on the tests' model: turns after the first compute only their new tokens. */
class WarmPathTest {

    private static InProcessCluster<WorkerServer> cluster;
    private static WorkerServer worker;
    private static ChatClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestWorkers.cluster();
        worker = TestWorkers.add(cluster);
        client = new ChatClient(worker.address());
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void laterTurnsReuseThePreviousPromptAndAnswer() {
        client.create("warm-1", "You tell short stories.", ChatClient.greedy(24));
        ChatClient.Reply t1 = client.ok(ChatClient.message("warm-1", "r1", "Tell me about a cat."));
        assertEquals(CacheStatus.CACHE_STATUS_COLD, t1.complete().getCache().getStatus());
        assertEquals(CacheReason.CACHE_REASON_NEW_SESSION, t1.complete().getCache().getReason());
        assertEquals(0, t1.complete().getUsage().getReusedTokens());
        assertEquals(t1.streamedText(), t1.complete().getText());

        int previous = t1.complete().getUsage().getPromptTokens() + t1.complete().getUsage().getGeneratedTokens();
        int newTokens = -1;
        for (int turn = 2; turn <= 3; turn++) {
            ChatClient.Reply t = client.ok(ChatClient.message("warm-1", "r" + turn, "And then what happened?"));
            var usage = t.complete().getUsage();
            assertEquals(CacheStatus.CACHE_STATUS_WARM, t.complete().getCache().getStatus(), t.toString());
            assertEquals(previous, usage.getReusedTokens(), "reused = previous prompt + answer");
            assertEquals(usage.getPromptTokens() - previous, usage.getComputedTokens());
            // The same message each time: the same new tokens (previous answer's footer + user block + header).
            if (newTokens >= 0) {
                assertEquals(newTokens, usage.getComputedTokens(), usage.toString());
            }
            newTokens = usage.getComputedTokens();
            assertTrue(usage.getComputedTokens() < usage.getReusedTokens(), usage.toString());
            assertEquals("warm", t.trailer("x-warmroute-cache"));
            assertEquals(worker.workerId(), t.trailer("x-warmroute-worker"));
            assertEquals(turn, t.complete().getVersion());
            previous = usage.getPromptTokens() + usage.getGeneratedTokens();
        }
        var stats = client.stats();
        assertEquals(2, stats.getTurns().getWarm());
        assertEquals(1, stats.getTurns().getCold());
    }
}

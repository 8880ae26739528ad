package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.WorkerStats;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.ChatClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end, on a real worker: what a client observes once it has TurnComplete is already true then. The worker
 * waits only 1 ms for a session's previous turn, so a next turn sent the moment TurnComplete arrives is ABORTED if
 * the previous one still holds the session's place in line; stats read then must not count the turn in flight, and
 * the cache must already hold the answer's last token. Releasing after the event is a race a fast machine usually
 * wins (CI lost it once), so {@link TurnStreamTest} pins the order itself deterministically.
 */
class FinalEventTest {

    private static InProcessCluster<WorkerServer> cluster;
    private static ChatClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestWorkers.cluster();
        WorkerServer worker = TestWorkers.add(cluster, b -> b.sessionWait(Duration.ofMillis(1)));
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
    void statsLineAndCacheAreSettledWhenTurnCompleteArrives() {
        // max_tokens 6: answers stop at the limit, so the last answer token is fed to the cache after the commit.
        client.create("settled", "", ChatClient.greedy(6));
        int lengthLimited = 0;
        for (int i = 0; i < 6; i++) {
            ChatClient.Reply t = client.send(ChatClient.message("settled", "t" + i, "And then what happened?"));
            assertTrue(t.ok(), "turn " + i + " sent right after the previous TurnComplete: " + t);
            WorkerStats stats = client.stats();
            assertEquals(0, stats.getInFlight(), "turn " + i + " no longer counted in flight");
            var usage = t.complete().getUsage();
            assertEquals(usage.getPromptTokens() + usage.getGeneratedTokens(), stats.getKvCache().getTokens(),
                    "turn " + i + ": the cache holds prompt and whole answer");
            if (t.complete().getFinishReason() == FinishReason.FINISH_REASON_LENGTH) {
                lengthLimited++;
            }
        }
        assertTrue(lengthLimited > 0, "at least one answer stopped at max_tokens (the last-token case)");
        assertEquals(6, client.stats().getTurns().getWarm() + client.stats().getTurns().getCold());
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.testing.ChatClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The invariant the design rests on: a turn computed from the history alone (cold, on a worker that never held the
 * session, or partially, from a cache that is turns behind) gives the same tokens as the warm path.
 *
 * <p>Both runs need the same session id (the sampler's draws depend on it), so the warm run's session is deleted and
 * created again with the same settings and seed before the mixed run.
 */
class ColdEqualsWarmTest extends OnTwoWorkers {

    static final List<String> MESSAGES = List.of("Tell me about a little dog.", "What did the dog find?",
            "Who did the dog meet?", "How did the story end?");

    @ParameterizedTest(name = "temperature {0}")
    @ValueSource(floats = {0f, 0.9f})
    void coldAndPartialTurnsGiveTheWarmAnswerTokenForToken(float temperature) throws Exception {
        String session = "same-" + (int) (temperature * 10);
        SessionSettings settings = SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder()
                .setTemperature(temperature).setTopP(0.9f).setSeed(1234).setMaxTokens(20)).build();

        toA.create(session, "You are a storyteller.", settings);
        List<ChatClient.Reply> warm = new ArrayList<>();
        for (int i = 0; i < MESSAGES.size(); i++) {
            warm.add(toA.ok(ChatClient.message(session, "w" + i, MESSAGES.get(i))));
            if (i > 0) {
                assertEquals(CacheStatus.CACHE_STATUS_WARM, warm.get(i).complete().getCache().getStatus());
            }
        }

        toA.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId(session).build());
        awaitDropped(session);
        toA.create(session, "You are a storyteller.", settings);
        // Turn 0 on A, then alternate: B has no cache (cold), A's cache is a turn behind (partial), and so on.
        List<ChatClient.Reply> mixed = new ArrayList<>();
        for (int i = 0; i < MESSAGES.size(); i++) {
            ChatClient client = i % 2 == 0 ? toA : toB;
            mixed.add(client.ok(ChatClient.message(session, "m" + i, MESSAGES.get(i))));
        }
        assertEquals(CacheStatus.CACHE_STATUS_COLD, mixed.get(1).complete().getCache().getStatus());
        assertEquals(CacheReason.CACHE_REASON_NO_CACHE, mixed.get(1).complete().getCache().getReason());
        assertEquals(mixed.get(1).complete().getUsage().getPromptTokens(),
                mixed.get(1).complete().getUsage().getComputedTokens(), "cold: the whole prompt computed");
        for (int i = 2; i < MESSAGES.size(); i++) {
            var cache = mixed.get(i).complete().getCache();
            assertEquals(CacheStatus.CACHE_STATUS_PARTIAL, cache.getStatus(), cache.toString());
            assertEquals(CacheReason.CACHE_REASON_PREFIX_MISMATCH, cache.getReason());
            assertTrue(cache.getDetail().contains("turns behind"), cache.getDetail());
        }

        for (int i = 0; i < MESSAGES.size(); i++) {
            assertEquals(warm.get(i).streamedIds(), mixed.get(i).streamedIds(), "turn " + i + " token ids");
            assertEquals(warm.get(i).complete().getText(), mixed.get(i).complete().getText(), "turn " + i);
            assertEquals(warm.get(i).complete().getUsage().getPromptTokens(),
                    mixed.get(i).complete().getUsage().getPromptTokens(), "turn " + i + " prompt");
            assertTrue(warm.get(i).streamedIds().size() > 0);
        }
        if (temperature > 0) {
            // The sampled answers are not the greedy ones: the draws matter, and they matched.
            assertNotEquals(greedyAnswers(session + "-greedy"), warm.stream().map(t -> t.complete().getText()).toList());
        }
    }

    private static List<String> greedyAnswers(String session) {
        toB.create(session, "You are a storyteller.", ChatClient.greedy(20));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < MESSAGES.size(); i++) {
            out.add(toB.ok(ChatClient.message(session, "g" + i, MESSAGES.get(i))).complete().getText());
        }
        return out;
    }

    private static void awaitDropped(String session) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (a.caches().holds(session) || b.caches().holds(session)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("caches of the deleted session were not dropped");
            }
            Thread.sleep(10);
        }
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.testing.ChatClient;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pruning with the real template and tokenizer: cuts are reported and stored, the turn after a cut is warm again,
 * and a worker that serves the session from the history alone cuts at the same place and gives the same answers.
 */
class PruningTest extends OnTwoWorkers {

    static final int TURNS = 10;

    static SessionSettings settings(PruningPolicy policy) {
        return SessionSettings.newBuilder().setContextBudgetTokens(320).setPruningPolicy(policy)
                .setLowWatermarkPercent(60).setSampling(SamplingParams.newBuilder().setTemperature(0)
                        .setMaxTokens(16)).build();
    }

    static String message(int i) {
        return "Question " + i + ": what did the little fox see today?";
    }

    @ParameterizedTest
    @EnumSource(value = PruningPolicy.class, names = {"PRUNING_POLICY_WATERMARK", "PRUNING_POLICY_DROP_OLDEST"})
    void cutsAreStoredSoEveryWorkerCutsAtTheSamePlace(PruningPolicy policy) throws Exception {
        String id = "prune-" + policy.getNumber();
        toA.create(id, "You are a fox.", settings(policy));
        List<ChatClient.Reply> warm = new ArrayList<>();
        int cuts = 0;
        for (int i = 0; i < TURNS; i++) {
            ChatClient.Reply t = toA.ok(ChatClient.message(id, "p" + i, message(i)));
            warm.add(t);
            var window = t.complete().getWindow();
            assertTrue(t.complete().getUsage().getPromptTokens() + 16 <= 320, "prompt + answer room within budget");
            if (window.getPruned()) {
                cuts++;
                assertEquals(CacheStatus.CACHE_STATUS_PARTIAL, t.complete().getCache().getStatus());
                assertEquals(CacheReason.CACHE_REASON_WINDOW_CUT, t.complete().getCache().getReason());
                assertTrue(window.getPrunedTurns() >= 1);
                if (policy == PruningPolicy.PRUNING_POLICY_WATERMARK) {
                    assertTrue(t.complete().getUsage().getPromptTokens() <= (320 - 16) * 60 / 100,
                            "cut down to the low watermark: " + t.complete().getUsage());
                }
                Session s = toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id)
                        .setIncludeMessages(true).build());
                assertEquals(window.getWindowStart(), s.getWindowStart(), "the cut is stored");
                assertTrue(!s.getMessages(1).getInWindow(), "pruned turns stay in the history, out of the window");
            } else if (i > 0) {
                assertEquals(CacheStatus.CACHE_STATUS_WARM, t.complete().getCache().getStatus(),
                        "turn " + i + " (also right after a cut): " + t.complete().getCache());
            }
        }
        assertTrue(cuts >= 1, "the conversation outgrew the budget");

        // The same conversation, alternating workers: cold and partial turns cut at the same turns, same answers.
        toA.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId(id).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (a.caches().holds(id) || b.caches().holds(id)) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(10);
        }
        toA.create(id, "You are a fox.", settings(policy));
        for (int i = 0; i < TURNS; i++) {
            ChatClient.Reply t = (i % 2 == 0 ? toB : toA).ok(ChatClient.message(id, "p" + i, message(i)));
            assertEquals(warm.get(i).complete().getWindow().getWindowStart(), t.complete().getWindow().getWindowStart(),
                    "turn " + i);
            assertEquals(warm.get(i).complete().getUsage().getPromptTokens(), t.complete().getUsage().getPromptTokens());
            assertEquals(warm.get(i).streamedIds(), t.streamedIds(), "turn " + i);
        }
    }

    @Test
    void policyNoneRefusesTheTurnThatWouldOverflow() {
        toA.create("prune-none", "", settings(PruningPolicy.PRUNING_POLICY_NONE));
        Status status = Status.OK;
        int committed = 0;
        for (int i = 0; i < 20 && status.isOk(); i++) {
            ChatClient.Reply t = toA.send(ChatClient.message("prune-none", "n" + i, message(i)));
            status = t.status();
            if (t.ok()) {
                committed++;
                assertTrue(!t.complete().getWindow().getPruned());
            }
        }
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode());
        assertTrue(status.getDescription().startsWith("context full:"), status.toString());
        assertTrue(status.getDescription().contains("pruning policy is NONE"));
        assertEquals(committed, toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId("prune-none")
                .build()).getTurnCount(), "the refused turn wrote nothing");
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.testing.ChatClient;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The same request id, again and on another worker: one committed turn, the same answer every time. */
class IdempotencyTest extends OnTwoWorkers {

    private static Session session(String id) {
        return toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).setIncludeMessages(true)
                .build());
    }

    @Test
    void aRetriedRequestIdReplaysTheCommittedTurnOnAnyWorker() {
        toA.create("idem-1", "", ChatClient.greedy(16));
        ChatClient.Reply first = toA.ok(ChatClient.message("idem-1", "req-1", "Hello there."));
        ChatClient.Reply again = toA.ok(ChatClient.message("idem-1", "req-1", "Hello there."));
        ChatClient.Reply elsewhere = toB.ok(ChatClient.message("idem-1", "req-1", "Hello there."));

        assertFalse(first.complete().getReplayed());
        for (ChatClient.Reply replay : List.of(again, elsewhere)) {
            assertTrue(replay.complete().getReplayed());
            assertEquals(CacheStatus.CACHE_STATUS_REPLAY, replay.complete().getCache().getStatus());
            assertEquals(first.complete().getText(), replay.complete().getText());
            assertEquals(first.streamedText(), replay.streamedText(), "the replayed stream carries the answer too");
            assertEquals(first.streamedIds(), replay.streamedIds());
            assertEquals(1, replay.complete().getVersion());
            assertEquals(0, replay.complete().getUsage().getComputedTokens());
            assertEquals("replay", replay.trailer("x-warmroute-cache"));
        }
        Session s = session("idem-1");
        assertEquals(1, s.getTurnCount());
        assertEquals(1, s.getVersion());

        // The next turn builds on the one committed turn.
        ChatClient.Reply next = toB.ok(ChatClient.message("idem-1", "req-2", "Go on."));
        assertEquals(2, next.complete().getVersion());
    }

    @Test
    void theSameRequestIdSentToTwoWorkersAtOnceCommitsOnce() throws Exception {
        toA.create("idem-2", "", ChatClient.greedy(40));
        var req = ChatClient.message("idem-2", "dup", "Tell me a story about a frog.");
        CompletableFuture<ChatClient.Reply> onA = CompletableFuture.supplyAsync(() -> toA.send(req));
        CompletableFuture<ChatClient.Reply> onB = CompletableFuture.supplyAsync(() -> toB.send(req));
        ChatClient.Reply ta = onA.get();
        ChatClient.Reply tb = onB.get();
        assertTrue(ta.ok(), ta.toString());
        assertTrue(tb.ok(), tb.toString());
        assertEquals(ta.complete().getText(), tb.complete().getText());
        assertEquals(1, (ta.complete().getReplayed() ? 0 : 1) + (tb.complete().getReplayed() ? 0 : 1),
                "exactly one of them computed and committed");
        assertEquals(1, session("idem-2").getTurnCount());
    }

    @Test
    void aRequestIdReusedForAnotherMessageIsRefused() {
        toA.create("idem-3", "", ChatClient.greedy(8));
        toA.ok(ChatClient.message("idem-3", "same-id", "First message."));
        ChatClient.Reply reused = toB.send(ChatClient.message("idem-3", "same-id", "Another message."));
        assertEquals(Status.Code.INVALID_ARGUMENT, reused.status().getCode());
        assertTrue(reused.status().getDescription().startsWith("request_id:"), reused.status().toString());
        assertEquals(1, session("idem-3").getTurnCount());
    }
}

package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.testing.ChatClient;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker side of a resumed stream: a turn interrupted after some tokens is continued on another worker from
 * history + the partial answer, streams only the new tokens, and commits the whole answer once, the same answer the
 * uninterrupted turn gives (sampled, with a fixed seed).
 */
class ResumeTest extends OnTwoWorkers {

    private static ChatClient internalToB;

    static final SessionSettings SETTINGS = SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder()
            .setTemperature(0.9f).setSeed(99).setMaxTokens(40)).build();
    static final int LONG_ANSWER = 400;

    @BeforeAll
    static void startInternalClient() {
        Metadata internal = new Metadata();
        internal.put(InternalCredential.METADATA_KEY, InternalCredential.obtain(b.hazelcast()).token());
        internalToB = new ChatClient(b.address(), internal);
    }

    @AfterAll
    static void stopInternalClient() {
        if (internalToB != null) {
            internalToB.close();
        }
    }

    private static Session session(String id) {
        return toA.blocking().getSession(GetSessionRequest.newBuilder().setSessionId(id).setIncludeMessages(true)
                .build());
    }

    @Test
    void anInterruptedAnswerContinuesOnAnotherWorkerAsIfNothingHappened() throws Exception {
        toA.create("resume-1", "You tell tales.", SETTINGS);
        toA.ok(ChatClient.message("resume-1", "t0", "Hello."));
        // A long answer: the cancel after 10 tokens must land while the worker is still generating. (With 40 tokens
        // a warm JIT finished the whole answer before the client's cancel arrived.)
        SendMessageRequest turn = ChatClient.message("resume-1", "t1", "Tell me about the moon.").toBuilder()
                .setSampling(SETTINGS.getSampling().toBuilder().setMaxTokens(LONG_ANSWER)).build();

        ChatClient.Reply interrupted = toA.send(turn, ChatClient.TURN_DEADLINE, (deltas, cancel) -> {
            if (deltas == 10) {
                cancel.run();
            }
        });
        assertEquals(Status.Code.CANCELLED, interrupted.status().getCode());
        CancelAndOrderingTest.awaitIdle(a);
        assertEquals(1, session("resume-1").getVersion());
        List<Integer> partial = interrupted.streamedIds().subList(0, 10);
        String partialText = interrupted.deltas().subList(0, 10).stream().map(d -> d.getText())
                .reduce("", String::concat);

        SendMessageRequest resumed = turn.toBuilder().setResume(ResumeState.newBuilder().addAllTokenIds(partial)
                .setText(partialText).setBaseVersion(1).setFailedWorker(a.workerId()).setAttempt(1)).build();
        ChatClient.Reply rest = internalToB.ok(resumed);
        assertEquals(10, rest.deltas().getFirst().getIndex(), "the stream continues where the client was");
        assertEquals(CacheReason.CACHE_REASON_RESUMED, rest.complete().getCache().getReason());
        assertEquals(LONG_ANSWER, rest.complete().getUsage().getGeneratedTokens(),
                "counts the interrupted attempt's tokens");
        assertEquals(2, rest.complete().getVersion());
        List<Integer> whole = new ArrayList<>(partial);
        whole.addAll(rest.streamedIds());
        assertEquals(partialText + rest.streamedText(), rest.complete().getText());
        Session s = session("resume-1");
        assertEquals(2, s.getTurnCount());
        assertEquals(rest.complete().getText(), s.getMessages(4).getContent(), "the whole answer, once");
        assertEquals(whole.size(), s.getMessages(4).getTokenCount());

        // The same turn uninterrupted (same session id and seed, so the same draws) gives the same tokens.
        toA.blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId("resume-1").build());
        awaitDropped("resume-1");
        toA.create("resume-1", "You tell tales.", SETTINGS);
        toA.ok(ChatClient.message("resume-1", "t0", "Hello."));
        ChatClient.Reply reference = toA.ok(turn);
        assertEquals(reference.streamedIds(), whole);
        assertEquals(reference.complete().getText(), rest.complete().getText());
    }

    @Test
    void aResumeOnAStaleVersionIsAbortedAndOneAlreadyCommittedReplays() {
        toA.create("resume-2", "", SETTINGS);
        ChatClient.Reply done = toA.ok(ChatClient.message("resume-2", "k0", "Hi."));
        SendMessageRequest stale = ChatClient.message("resume-2", "k1", "More.").toBuilder()
                .setResume(ResumeState.newBuilder().addTokenIds(done.streamedIds().getFirst()).setBaseVersion(0))
                .build();
        ChatClient.Reply t = internalToB.send(stale);
        assertEquals(Status.Code.ABORTED, t.status().getCode());
        assertTrue(t.status().getDescription().startsWith("resume: the interrupted turn was built on version 0"));

        // The failed worker had committed before dying: the resume replays the stored answer.
        SendMessageRequest late = ChatClient.message("resume-2", "k0", "Hi.").toBuilder()
                .setResume(ResumeState.newBuilder().addTokenIds(done.streamedIds().getFirst()).setBaseVersion(0))
                .build();
        ChatClient.Reply replay = internalToB.ok(late);
        assertTrue(replay.complete().getReplayed());
        assertEquals(done.complete().getText(), replay.complete().getText());
        assertEquals(1, session("resume-2").getTurnCount());
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

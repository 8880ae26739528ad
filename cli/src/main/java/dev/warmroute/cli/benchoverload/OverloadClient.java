package dev.warmroute.cli.benchoverload;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cli.drill.TurnRecord;
import dev.warmroute.cluster.CallMetadata;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmark's client side: a pool of sessions created up front, each used by at most one turn at a time (a
 * session's turns are sequential: a second one at once would be ABORTED, not load), and one turn run and recorded.
 */
final class OverloadClient implements AutoCloseable {

    static final String OWNER = "bench-overload";
    private static final Duration DEADLINE = Duration.ofMinutes(2);
    private static final String[] TOPICS = {"a cat", "the sea", "a red ball", "the moon", "a little bird", "a garden",
            "the rain", "a castle", "a boat", "the snow", "a lost key", "a big truck"};

    private final ChatClient chat;
    private final List<String> sessions;
    private final ConcurrentLinkedQueue<Integer> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger[] nextTurn;
    private final int maxTokens;
    private final long t0 = System.nanoTime();

    OverloadClient(String target, List<String> sessions, int maxTokens) {
        this.chat = new ChatClient(target, OWNER);
        this.sessions = List.copyOf(sessions);
        this.maxTokens = maxTokens;
        this.nextTurn = new AtomicInteger[sessions.size()];
        for (int i = 0; i < sessions.size(); i++) {
            nextTurn[i] = new AtomicInteger();
            idle.add(i);
        }
    }

    /** Creates every session (short system prompt, short answers). */
    void createSessions(long seed) {
        for (int i = 0; i < sessions.size(); i++) {
            SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0.8f).setTopP(0.95f)
                    .setSeed(seed * 1000 + i).setMaxTokens(maxTokens).build();
            chat.ensureSession(sessions.get(i), "You answer in one short sentence.",
                    dev.warmroute.api.v1.SessionSettings.newBuilder().setSampling(sampling).build(), DEADLINE);
        }
    }

    /** An idle session's index, taken (give it back with the turn's end), or -1 when every session is busy. */
    int takeIdle() {
        Integer i = idle.poll();
        return i == null ? -1 : i;
    }

    /** Takes session {@code index} if it is idle (for sequential phases); false when a turn of it is running. */
    boolean take(int index) {
        return idle.remove(index);
    }

    ChatClient chat() {
        return chat;
    }

    List<String> sessions() {
        return sessions;
    }

    /** Runs one turn of session {@code index} (taken with {@link #takeIdle}) and gives the session back. */
    OfferedTurn turn(String phase, int index) {
        try {
            return run(phase, index);
        } finally {
            idle.add(index);
        }
    }

    private OfferedTurn run(String phase, int index) {
        String id = sessions.get(index);
        int turn = nextTurn[index].getAndIncrement();
        // Unique per session and turn: the audit finds a turn in the history by its text.
        String text = "Turn " + turn + " of " + id + ": tell me something about " + TOPICS[(index + turn)
                % TOPICS.length] + ".";
        String requestId = id + "-t" + turn;
        double startMs = (System.nanoTime() - t0) / 1e6;
        long start = System.nanoTime();
        try {
            StringBuilder answer = new StringBuilder();
            ChatClient.TurnResult r = chat.send(ChatClient.message(id, requestId, text,
                    SamplingParams.getDefaultInstance()), d -> answer.append(d.getText()), DEADLINE);
            double total = (System.nanoTime() - start) / 1e6;
            TurnComplete c = r.complete();
            double ttft = r.firstDeltaMs() >= 0 ? r.firstDeltaMs() : total;
            String cache = c.getCache().getStatus().name().substring("CACHE_STATUS_".length())
                    .toLowerCase(java.util.Locale.ROOT);
            TurnRecord rec = new TurnRecord(id, turn, requestId, text, startMs, ttft, total, c.getWorkerId(), cache,
                    c.getRouting().getFallback(), c.getRouting().getResumed(), c.getText(), "");
            return new OfferedTurn(phase, rec, "OK", "", ttft, cache, c.getTimings().getPrefillMs(),
                    c.getTimings().getQueueMs(), c.getRouting().getFallback(), c.getRouting().getRebalanced());
        } catch (StatusRuntimeException e) {
            double ms = (System.nanoTime() - start) / 1e6;
            Metadata t = e.getTrailers();
            String retryAfter = t == null ? "" : String.valueOf(t.get(CallMetadata.RETRY_AFTER) == null ? ""
                    : t.get(CallMetadata.RETRY_AFTER));
            String error = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
            TurnRecord rec = new TurnRecord(id, turn, requestId, text, startMs, -1, ms, "", "", false, false, "",
                    error);
            return new OfferedTurn(phase, rec, e.getStatus().getCode().name(), retryAfter, ms, "", 0, 0, false,
                    false);
        }
    }

    @Override
    public void close() {
        chat.close();
    }
}

package dev.warmroute.worker;

import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.api.v1.Usage;
import dev.warmroute.api.v1.WindowInfo;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.session.CommitResult;
import dev.warmroute.cluster.session.CommitTurn;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.Turn;
import dev.warmroute.engine.ContextOverflowException;
import dev.warmroute.engine.KvBudgetExceededException;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Sampler;
import dev.warmroute.engine.TokenRandom;
import dev.warmroute.engine.tokenizer.TextDecoder;
import io.grpc.Status;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one admitted turn on a compute thread, one method per step of DESIGN.md's "A turn, step by step" (steps 2 to
 * 5): load the record, build the prompt window and tokenize ({@link PromptWindow#forTurn}), compare it with the cache
 * ({@link KvCacheManager.Lease#reuse}), prefill the rest, decode while streaming, commit with the entry processor,
 * settle the cache, send TurnComplete.
 *
 * <p>Whatever goes wrong before the commit, nothing is written and the session's cache is cut back to the tokens it
 * held before the turn (a valid prefix of the history), so the next turn finds it consistent. Everything a client can
 * observe after TurnComplete (the cache, the stats) is settled before it is sent.
 */
final class TurnRunner {

    private static final Logger log = LoggerFactory.getLogger(TurnRunner.class);
    private static final InternalErrors ERRORS = new InternalErrors("worker", log, "turn.error");

    private final EngineModel model;
    private final PromptWindow window;
    private final SessionStore store;
    private final KvCacheManager caches;
    private final WorkerMetrics metrics;
    private final WorkerIdentity identity;
    private final int prefillChunk;

    private final SessionLimits limits;

    TurnRunner(EngineModel model, PromptWindow window, SessionStore store, KvCacheManager caches,
            WorkerMetrics metrics, WorkerIdentity identity, int prefillChunk, SessionLimits limits) {
        this.limits = limits;
        this.model = model;
        this.window = window;
        this.store = store;
        this.caches = caches;
        this.metrics = metrics;
        this.identity = identity;
        this.prefillChunk = prefillChunk;
    }

    /** A validated request, ready to run. */
    record TurnRequest(SendMessageRequest request, String sessionId, String requestId, String owner,
            boolean resume, long arrivalNanos) {

        String content() {
            return request.getMessage().getContent();
        }
    }

    /** The answer as decoded; {@code lastTokenPending}: its last token is not in the cache yet (stopped at a limit). */
    private record Answer(int[] ids, String text, FinishReason finish, boolean lastTokenPending) {}

    /** The turn as stored; {@code byOtherAttempt}: another worker committed this request id meanwhile (a replay). */
    private record Committed(Turn turn, boolean byOtherAttempt) {}

    /** Runs the turn to its end (success or a status on the stream). Never throws. */
    void run(TurnRequest t, TurnStream stream) {
        TurnTimings timings = new TurnTimings(t.arrivalNanos());
        KvCacheManager.Lease lease = null;
        try {
            stream.checkAlive();
            SessionRecord record = loadRecord(t);
            Turn earlier = record.findTurn(t.requestId());
            if (earlier != null) {
                replay(t, record, earlier, stream, timings, "request_id already committed");
                return;
            }
            // After the replay check: the retry of a session's last turn is answered even at the limit.
            limits.checkNewTurn(t.sessionId(), record.turns().size());
            int[] partialAnswer = resumedAnswer(t, record);
            TurnSampling sampling = TurnSampling.of(record.settings(), t.request().getSampling());
            int[] userIds = model.encodeContent(t.content());
            PromptWindow.Prompt prompt = window.forTurn(SessionViews.conversation(record, model, userIds),
                    record.settings(), sampling.maxTokens(), partialAnswer);

            lease = caches.acquire(t.sessionId());
            int reused = lease.reuse(prompt, record.version(), t.resume());
            timings.prepared();
            stream.send(started(t.requestId(), (int) record.version(), lease.outcome(), prompt.tokens().length));

            float[] logits = prefill(lease.cache(), prompt.tokens(), reused, stream, timings);
            Answer answer = decode(t, (int) record.version(), sampling, prompt, lease.cache(), logits, stream,
                    timings);
            stream.checkAlive();

            Committed committed = commit(t, record, userIds, prompt, answer, timings);
            // Committed: from here on nothing may turn the turn into a failure; a client that went away gets its
            // answer by retrying with the same request id (a replay).
            KvCacheManager.Lease settled = lease;
            lease = null;
            settleCache(settled, t, record.version() + 1, prompt, answer, committed);
            count(t, settled, prompt, answer, committed, timings);
            sendComplete(t, settled, prompt, answer, committed, sampling, stream, timings);
        } catch (Throwable e) {
            if (lease != null) {
                lease.rollback();
            }
            fail(t, e, stream);
        }
    }

    /** Step 2: the session record, one IMap read; a session of another owner does not exist for this caller. */
    private SessionRecord loadRecord(TurnRequest t) {
        SessionRecord record = store.get(t.sessionId());
        if (record == null || !record.owner().equals(t.owner())) {
            throw Errors.notFound(t.sessionId());
        }
        if (!record.modelId().equals(model.id())) {
            throw Errors.failedPrecondition("session '" + t.sessionId() + "' was created for model "
                    + record.modelId() + "; this worker serves " + model.id());
        }
        return record;
    }

    /** A resumed turn's partial answer (empty for an ordinary turn); it must continue the version it was built on. */
    private static int[] resumedAnswer(TurnRequest t, SessionRecord record) {
        if (!t.resume()) {
            return new int[0];
        }
        var resume = t.request().getResume();
        if (resume.getBaseVersion() != record.version()) {
            throw Errors.aborted("resume: the interrupted turn was built on version " + resume.getBaseVersion()
                    + " but session '" + t.sessionId() + "' is at version " + record.version()
                    + " (another turn committed); nothing written");
        }
        return resume.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Step 3, after {@link KvCacheManager.Lease#reuse}: computes what the cache does not hold, in chunks so a cancel
     * or deadline stops it promptly.
     */
    private float[] prefill(KvCache cache, int[] prompt, int from, TurnStream stream, TurnTimings timings) {
        long start = System.nanoTime();
        float[] logits = null;
        for (int pos = from; pos < prompt.length; pos += prefillChunk) {
            stream.checkAlive();
            logits = model.forward(cache, prompt, pos, Math.min(prompt.length, pos + prefillChunk));
        }
        timings.prefilled(start);
        return logits;
    }

    /**
     * Step 4: samples and streams the answer until a stop token or a limit of the prompt window. The draw for answer
     * position p depends only on (seed, session, turn, p), so the warm path, a cold recompute and a resumed stream
     * produce the same tokens. {@link TurnStream#send} waits while the client is slow to read (flow control).
     */
    private Answer decode(TurnRequest t, int turnIndex, TurnSampling sampling, PromptWindow.Prompt prompt,
            KvCache cache, float[] logits, TurnStream stream, TurnTimings timings) {
        int partial = prompt.partialAnswerTokens();
        TextDecoder decoder = model.newAnswerDecoder();
        for (int i = 0; i < partial; i++) {
            // text already sent by the failed worker; primes pending bytes and spacing
            decoder.push(prompt.tokens()[prompt.windowTokens() + i]);
        }
        int[] answer = Arrays.copyOfRange(prompt.tokens(), prompt.windowTokens(),
                prompt.windowTokens() + sampling.maxTokens());
        int n = partial;
        long firstToken = 0;
        FinishReason finish;
        while ((finish = prompt.limitAt(n)) == null) {
            double u = TokenRandom.uniform(sampling.seed(), t.sessionId(), turnIndex, n);
            int token = Sampler.sample(logits, sampling.temperature(), sampling.topP(), u);
            if (model.stopTokens().contains(token)) {
                finish = FinishReason.FINISH_REASON_STOP;
                break;
            }
            answer[n] = token;
            stream.send(delta(decoder.push(token), n, List.of(token)));
            if (firstToken == 0) {
                firstToken = System.nanoTime();
                timings.firstToken(firstToken);
            }
            n++;
            if (prompt.limitAt(n) == null) { // else the last token is fed once the turn is committed
                stream.checkAlive();
                logits = model.forward(cache, answer, n - 1, n);
            }
        }
        String tail = decoder.flush();
        if (!tail.isEmpty()) {
            stream.send(delta(tail, n, List.of()));
        }
        long end = System.nanoTime();
        if (firstToken == 0) {
            timings.firstToken(end);
        } else {
            timings.decoded(firstToken, end);
        }
        int[] ids = Arrays.copyOf(answer, n);
        return new Answer(ids, model.decodeAnswer(ids), finish, finish != FinishReason.FINISH_REASON_STOP
                && n > partial);
    }

    /**
     * Step 5: the entry processor appends the turn only on the version it was built on and only if the request id
     * is new. ABORTED on a lost version race, NOT_FOUND for a session deleted meanwhile: nothing written.
     */
    private Committed commit(TurnRequest t, SessionRecord record, int[] userIds, PromptWindow.Prompt prompt,
            Answer answer, TurnTimings timings) {
        long start = System.nanoTime();
        String attemptId = UUID.randomUUID().toString();
        Turn turn = new Turn((int) record.version(), t.requestId(), attemptId, t.content(), userIds, answer.text(),
                answer.ids(), answer.finish().getNumber(), identity.get(), prompt.windowTokens(),
                System.currentTimeMillis());
        CommitResult result = store.commit(t.sessionId(),
                new CommitTurn(record.version(), prompt.windowStart(), turn.createTimeMs(), turn,
                        record.incarnation()));
        timings.committed(start);
        return switch (result.outcome()) {
            case COMMITTED -> new Committed(turn, false);
            // Our own commit seen again (Hazelcast re-ran the processor) is a success; another worker's commit of
            // this request id while we computed is reported as a replay of its turn.
            case ALREADY_COMMITTED -> new Committed(result.turn(), !result.turn().attemptId().equals(attemptId));
            case VERSION_CONFLICT -> throw Errors.aborted("session '" + t.sessionId() + "': another turn was "
                    + "committed while this one ran (built on version " + record.version() + ", now "
                    + result.version() + "); nothing written, retry the turn");
            case MISSING -> throw Status.NOT_FOUND.withDescription("session '" + t.sessionId()
                    + "' was deleted (or deleted and created again) while the turn ran; nothing written")
                    .asRuntimeException();
        };
    }

    /**
     * Step 5, after the commit and before the final event: the cache now holds the committed history (prompt and
     * whole answer; the last answer token is fed when generation stopped at a limit), or is cut back when the stored
     * answer is another attempt's. A cache that fails here is dropped; the turn stays committed.
     */
    private void settleCache(KvCacheManager.Lease lease, TurnRequest t, long version, PromptWindow.Prompt prompt,
            Answer answer, Committed committed) {
        try {
            if (committed.byOtherAttempt() || !Arrays.equals(committed.turn().assistantTokens(), answer.ids())) {
                lease.rollback();
                return;
            }
            if (answer.lastTokenPending() && lease.keepsCommitted()) {
                int n = answer.ids().length;
                model.forward(lease.cache(), answer.ids(), n - 1, n);
            }
            lease.commit(version, prompt.windowStart());
        } catch (RuntimeException e) {
            log.warn("kv.complete-failed session={} ({}); dropping its cache", t.sessionId(), e.toString());
            lease.discard();
        }
    }

    /** Counts the committed turn, or the replay it turned out to be, before the final event. */
    private void count(TurnRequest t, KvCacheManager.Lease lease, PromptWindow.Prompt prompt, Answer answer,
            Committed committed, TurnTimings timings) {
        if (committed.byOtherAttempt()) {
            metrics.replay();
            return;
        }
        metrics.turnCompleted(lease.outcome().getStatus(), lease.outcome().getReason(), t.resume(), lease.reused(),
                prompt.tokens().length - lease.reused(), answer.ids().length - prompt.partialAnswerTokens(),
                timings.ttftMs(), prompt.pruned());
    }

    /** Step 5, last: TurnComplete with what was stored, the usage and the cache outcome; then the log line. */
    private void sendComplete(TurnRequest t, KvCacheManager.Lease lease, PromptWindow.Prompt prompt, Answer answer,
            Committed committed, TurnSampling sampling, TurnStream stream, TurnTimings timings) {
        Turn stored = committed.turn();
        CacheOutcome reported = committed.byOtherAttempt() ? CacheOutcomes.outcome(CacheStatus.CACHE_STATUS_REPLAY,
                CacheReason.CACHE_REASON_NONE, "request_id committed by worker " + stored.workerId()
                        + " while this worker computed it") : lease.outcome();
        int reused = lease.reused();
        int computed = prompt.tokens().length - reused;
        finish(t, stream, reported, timings, TurnComplete.newBuilder().setRequestId(t.requestId())
                .setTurnIndex(stored.index()).setVersion(stored.index() + 1L).setText(stored.assistantText())
                .setFinishReason(FinishReason.forNumber(stored.finishReason()))
                .setUsage(Usage.newBuilder().setPromptTokens(prompt.tokens().length).setReusedTokens(reused)
                        .setComputedTokens(computed).setGeneratedTokens(stored.assistantTokens().length))
                .setWindow(WindowInfo.newBuilder().setWindowStart(prompt.windowStart()).setPruned(prompt.pruned())
                        .setPrunedTurns(prompt.prunedTurns()).setBudgetTokens(prompt.budget()))
                .setReplayed(committed.byOtherAttempt()).setSampling(sampling.toProto()));
        log.info("turn.commit session={} request={} worker={} turn={} version={} cache={} reused={} computed={} "
                + "generated={} finish={} window={} ttft_ms={} total_ms={}{}", t.sessionId(), t.requestId(),
                identity.get(), stored.index(), stored.index() + 1, CacheOutcomes.trailer(reported), reused, computed,
                answer.ids().length, answer.finish(), prompt.windowStart(), round(timings.ttftMs()),
                round(timings.totalMs()),
                t.resume() ? " resumed_from=" + t.request().getResume().getFailedWorker() : "");
    }

    /** An idempotent retry of a committed turn: the stored answer, nothing computed. */
    void replay(TurnRequest t, SessionRecord record, Turn turn, TurnStream stream, TurnTimings timings, String why) {
        if (!turn.userText().equals(t.content())) {
            throw Errors.invalid("request_id", "'" + t.requestId() + "' was already used in session '"
                    + t.sessionId() + "' for a different message (turn " + turn.index() + ")");
        }
        CacheOutcome outcome = CacheOutcomes.outcome(CacheStatus.CACHE_STATUS_REPLAY, CacheReason.CACHE_REASON_NONE,
                "replay of turn " + turn.index() + " committed by worker " + turn.workerId());
        stream.send(started(t.requestId(), turn.index(), outcome, turn.promptTokens()));
        stream.send(delta(turn.assistantText(), 0, Arrays.stream(turn.assistantTokens()).boxed().toList()));
        timings.firstToken(System.nanoTime());
        metrics.replay();
        finish(t, stream, outcome, timings, TurnComplete.newBuilder().setRequestId(t.requestId())
                .setTurnIndex(turn.index()).setVersion(turn.index() + 1L).setText(turn.assistantText())
                .setFinishReason(FinishReason.forNumber(turn.finishReason()))
                .setUsage(Usage.newBuilder().setPromptTokens(turn.promptTokens())
                        .setGeneratedTokens(turn.assistantTokens().length))
                .setWindow(WindowInfo.newBuilder().setWindowStart(record.windowStart())
                        .setBudgetTokens(record.settings().contextBudgetTokens()))
                .setReplayed(true)
                .setSampling(TurnSampling.of(record.settings(), t.request().getSampling()).toProto()));
        log.info("turn.replay session={} request={} worker={} turn={} committed_by={} ({})", t.sessionId(),
                t.requestId(), identity.get(), turn.index(), turn.workerId(), why);
    }

    private SendMessageResponse started(String requestId, int turnIndex, CacheOutcome outcome, int promptTokens) {
        return SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder().setRequestId(requestId)
                .setTurnIndex(turnIndex).setWorkerId(identity.get()).setCache(outcome).setPromptTokens(promptTokens))
                .build();
    }

    private static SendMessageResponse delta(String text, int index, List<Integer> tokenIds) {
        return SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText(text).setIndex(index)
                .addAllTokenIds(tokenIds)).build();
    }

    /**
     * The final event of a committed (or replayed) turn: nothing after it may fail the turn, so a client gone by now
     * is only logged (it gets the answer by retrying with the same request id).
     */
    private void finish(TurnRequest t, TurnStream stream, CacheOutcome outcome, TurnTimings timings,
            TurnComplete.Builder complete) {
        try {
            timings.finished();
            stream.trailer(CallMetadata.WORKER, identity.get());
            stream.trailer(CallMetadata.CACHE, CacheOutcomes.trailer(outcome));
            stream.sendFinal(SendMessageResponse.newBuilder().setComplete(complete.setCache(outcome)
                    .setWorkerId(identity.get()).setTimings(timings.toProto())).build());
        } catch (RuntimeException e) {
            log.info("turn.client-gone-after-commit session={} request={} turn={} ({})", t.sessionId(),
                    t.requestId(), complete.getTurnIndex(), e.getMessage());
        }
    }

    /** A turn that failed before its commit: nothing was written; the status goes to the client. */
    private void fail(TurnRequest t, Throwable e, TurnStream stream) {
        Status status = statusOf(e, t);
        if (status.getCode() == Status.Code.ABORTED) {
            metrics.aborted();
        } else {
            metrics.failed();
        }
        stream.trailer(CallMetadata.WORKER, identity.get());
        stream.fail(status);
    }

    private Status statusOf(Throwable e, TurnRequest t) {
        Status known = Errors.statusOf(e);
        if (known != null) {
            log.info("turn.failed session={} request={} status={} message={}", t.sessionId(), t.requestId(),
                    known.getCode(), known.getDescription());
            return known;
        }
        if (e instanceof ContextOverflowException || e instanceof KvBudgetExceededException) {
            log.info("turn.failed session={} request={} status=RESOURCE_EXHAUSTED message={}", t.sessionId(),
                    t.requestId(), e.getMessage());
            return Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage());
        }
        String errorId = InternalErrors.newId();
        log.error("turn.error session={} request={} error_id={}", t.sessionId(), t.requestId(), errorId, e);
        return ERRORS.status(errorId, e).getStatus();
    }

    private static double round(double ms) {
        return Math.round(ms * 10) / 10.0;
    }
}

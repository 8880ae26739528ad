package dev.warmroute.worker;

import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Timings;
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
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one admitted turn on a compute thread, in DESIGN.md's order: load the record, build the prompt window, reuse
 * the cache's longest common prefix, prefill the rest in chunks, decode with the deterministic sampler while
 * streaming, commit with the entry processor, send TurnComplete.
 *
 * <p>Whatever goes wrong before the commit, nothing is written and the session's cache is cut back to the tokens it
 * held before the turn (a valid prefix of the history), so the next turn finds it consistent.
 */
final class TurnRunner {

    private static final Logger log = LoggerFactory.getLogger(TurnRunner.class);
    private static final InternalErrors ERRORS = new InternalErrors("worker", log, "turn.error");

    private final EngineModel model;
    private final SessionStore store;
    private final KvCacheManager caches;
    private final WorkerMetrics metrics;
    private final WorkerIdentity identity;
    private final int prefillChunk;
    /** Stateless mode: no cache survives a turn, every turn computes its whole prompt (WorkerConfig.stateless). */
    private final boolean stateless;

    TurnRunner(EngineModel model, SessionStore store, KvCacheManager caches, WorkerMetrics metrics,
            WorkerIdentity identity, int prefillChunk, boolean stateless) {
        this.model = model;
        this.store = store;
        this.caches = caches;
        this.metrics = metrics;
        this.identity = identity;
        this.prefillChunk = prefillChunk;
        this.stateless = stateless;
    }

    /** A validated request, ready to run. */
    record TurnRequest(SendMessageRequest request, String sessionId, String requestId, String owner,
            boolean resume, long arrivalNanos) {}

    /** Runs the turn to its end (success or a status on the stream). Never throws. */
    void run(TurnRequest t, TurnStream stream) {
        String workerId = identity.get();
        long start = System.nanoTime();
        Clock clock = new Clock(t.arrivalNanos());
        clock.queueMs = ms(start - t.arrivalNanos());
        KvCacheManager.Lease lease = null;
        int restoreTo = 0; // on failure, the cache is cut back to this many tokens (what it validly held)
        try {
            stream.checkAlive();
            SessionRecord record = store.get(t.sessionId());
            if (record == null || !record.owner().equals(t.owner())) {
                throw Errors.notFound(t.sessionId());
            }
            if (!record.modelId().equals(model.id())) {
                throw Errors.failedPrecondition("session '" + t.sessionId() + "' was created for model "
                        + record.modelId() + "; this worker serves " + model.id());
            }
            Turn committed = record.findTurn(t.requestId());
            if (committed != null) {
                replay(t, record, committed, stream, clock, "request_id already committed");
                return;
            }
            SendMessageRequest req = t.request();
            int[] resumeIds = t.resume() ? req.getResume().getTokenIdsList().stream().mapToInt(Integer::intValue)
                    .toArray() : new int[0];
            if (t.resume() && req.getResume().getBaseVersion() != record.version()) {
                throw Errors.aborted("resume: the interrupted turn was built on version "
                        + req.getResume().getBaseVersion() + " but session '" + t.sessionId() + "' is at version "
                        + record.version() + " (another turn committed); nothing written");
            }
            TurnSampling sampling = TurnSampling.of(record.settings(), req.getSampling());
            int budget = record.settings().contextBudgetTokens();
            if (sampling.maxTokens() > budget) {
                throw Errors.invalid("sampling.max_tokens", sampling.maxTokens() + " exceeds the session's context"
                        + " budget of " + budget + " tokens");
            }
            if (resumeIds.length > sampling.maxTokens()) {
                throw Errors.invalid("resume.token_ids", resumeIds.length + " tokens exceed max_tokens "
                        + sampling.maxTokens());
            }
            int[] userIds = model.encodeContent(req.getMessage().getContent());
            PromptWindow.Prompt window = PromptWindow.build(model.promptTemplate(),
                    SessionViews.conversation(record, model, userIds), budget, sampling.maxTokens(),
                    PruningPolicy.forNumber(record.settings().pruningPolicy()),
                    record.settings().lowWatermarkPercent());
            int[] prompt = resumeIds.length == 0 ? window.tokens() : concat(window.tokens(), resumeIds);

            // The cache: keep the longest common prefix (at least one prompt token must be computed, for logits).
            lease = caches.acquire(t.sessionId());
            KvCache cache = lease.cache();
            int cached = cache.size();
            restoreTo = cached;
            int common = cache.commonPrefixLength(prompt);
            int keep = Math.min(common, prompt.length - 1);
            CacheOutcome outcome = stateless && !t.resume() ? CacheOutcomes.stateless()
                    : CacheOutcomes.classify(lease.existed(), lease.evictedBefore(), record.version() == 0, cached,
                            common, lease.cachedVersion(), record.version(), window, t.resume());
            cache.truncate(keep);
            restoreTo = keep;
            lease.ensureCapacity(Math.min(window.tokens().length + sampling.maxTokens(), budget));
            caches.recordOutcome(outcome.getStatus());
            int turnIndex = (int) record.version();
            clock.prepareMs = ms(System.nanoTime() - start);
            stream.send(SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder()
                    .setRequestId(t.requestId()).setTurnIndex(turnIndex).setWorkerId(workerId).setCache(outcome)
                    .setPromptTokens(prompt.length)).build());

            // Prefill what the cache does not hold, in chunks so a cancel or deadline stops it promptly.
            long prefillStart = System.nanoTime();
            float[] logits = null;
            for (int pos = keep; pos < prompt.length; pos += prefillChunk) {
                stream.checkAlive();
                logits = model.forward(cache, prompt, pos, Math.min(prompt.length, pos + prefillChunk));
            }
            clock.prefillMs = ms(System.nanoTime() - prefillStart);

            // Decode: the draw for answer position p depends only on (seed, session, turn, p), so the warm path,
            // a cold recompute and a resumed stream produce the same tokens.
            TextDecoder decoder = model.newAnswerDecoder();
            for (int id : resumeIds) {
                decoder.push(id); // text already sent by the failed worker; primes pending bytes and spacing
            }
            int[] answer = Arrays.copyOf(resumeIds, sampling.maxTokens());
            int n = resumeIds.length;
            boolean lastForwarded = true;
            FinishReason finish = FinishReason.FINISH_REASON_LENGTH;
            long decodeStart = 0;
            while (true) {
                if (n >= sampling.maxTokens()) {
                    finish = FinishReason.FINISH_REASON_LENGTH;
                    break;
                }
                if (window.tokens().length + n >= budget) {
                    finish = FinishReason.FINISH_REASON_CONTEXT_FULL;
                    break;
                }
                double u = TokenRandom.uniform(sampling.seed(), t.sessionId(), turnIndex, n);
                int token = Sampler.sample(logits, sampling.temperature(), sampling.topP(), u);
                if (model.stopTokens().contains(token)) {
                    finish = FinishReason.FINISH_REASON_STOP;
                    break;
                }
                answer[n] = token;
                String text = decoder.push(token);
                stream.send(SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText(text)
                        .addTokenIds(token).setIndex(n)).build());
                if (decodeStart == 0) {
                    decodeStart = System.nanoTime();
                    clock.ttftMs = ms(decodeStart - t.arrivalNanos());
                }
                n++;
                if (n < sampling.maxTokens() && window.tokens().length + n < budget) {
                    stream.checkAlive();
                    logits = model.forward(cache, answer, n - 1, n);
                    lastForwarded = true;
                } else {
                    lastForwarded = false;
                }
            }
            String tail = decoder.flush();
            if (!tail.isEmpty()) {
                stream.send(SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText(tail)
                        .setIndex(n)).build());
            }
            long decodeEnd = System.nanoTime();
            clock.decodeMs = decodeStart == 0 ? 0 : ms(decodeEnd - decodeStart);
            if (decodeStart == 0) {
                clock.ttftMs = ms(decodeEnd - t.arrivalNanos());
            }
            int[] answerIds = Arrays.copyOf(answer, n);
            String answerText = model.decodeAnswer(answerIds);
            stream.checkAlive();

            // Commit: appended only on the version this turn was built on and only if the request id is new.
            long commitStart = System.nanoTime();
            String attemptId = UUID.randomUUID().toString();
            Turn turn = new Turn(turnIndex, t.requestId(), attemptId, req.getMessage().getContent(), userIds,
                    answerText, answerIds, finish.getNumber(), workerId, window.tokens().length,
                    System.currentTimeMillis());
            CommitResult result = store.commit(t.sessionId(),
                    new CommitTurn(record.version(), window.windowStart(), turn.createTimeMs(), turn,
                            record.incarnation()));
            clock.commitMs = ms(System.nanoTime() - commitStart);
            Turn stored = turn;
            boolean replayed = false;
            switch (result.outcome()) {
                case COMMITTED -> { }
                case ALREADY_COMMITTED -> {
                    stored = result.turn();
                    // Our own commit seen again (Hazelcast re-ran the processor): a success. Otherwise another
                    // worker committed this request id while we computed: report its turn as a replay.
                    replayed = !stored.attemptId().equals(attemptId);
                }
                case VERSION_CONFLICT -> throw Errors.aborted("session '" + t.sessionId() + "': another turn was "
                        + "committed while this one ran (built on version " + record.version() + ", now "
                        + result.version() + "); nothing written, retry the turn");
                case MISSING -> throw Status.NOT_FOUND.withDescription("session '" + t.sessionId()
                        + "' was deleted (or deleted and created again) while the turn ran; nothing written")
                        .asRuntimeException();
            }
            // Committed: from here on nothing may turn the turn into a failure; a client that went away gets its
            // answer by retrying with the same request id (a replay).
            KvCacheManager.Lease committedLease = lease;
            lease = null;
            int reused = keep;
            int computed = prompt.length - keep;
            if (replayed) {
                metrics.replay();
            } else {
                metrics.turnCompleted(outcome.getStatus(), outcome.getReason(), t.resume(), reused, computed,
                        answerIds.length - resumeIds.length, clock.ttftMs, window.pruned());
            }
            CacheOutcome reported = replayed ? CacheOutcomes.outcome(CacheStatus.CACHE_STATUS_REPLAY,
                    CacheReason.CACHE_REASON_NONE, "request_id committed by worker " + stored.workerId()
                            + " while this worker computed it") : outcome;
            try {
                Usage usage = Usage.newBuilder().setPromptTokens(prompt.length).setReusedTokens(reused)
                        .setComputedTokens(computed).setGeneratedTokens(stored.assistantTokens().length).build();
                clock.totalMs = ms(System.nanoTime() - t.arrivalNanos());
                stream.trailer(CallMetadata.WORKER, workerId);
                stream.trailer(CallMetadata.CACHE, CacheOutcomes.trailer(reported));
                stream.send(SendMessageResponse.newBuilder().setComplete(TurnComplete.newBuilder()
                        .setRequestId(t.requestId()).setTurnIndex(stored.index()).setVersion(stored.index() + 1L)
                        .setText(stored.assistantText())
                        .setFinishReason(FinishReason.forNumber(stored.finishReason()))
                        .setUsage(usage).setCache(reported).setWorkerId(workerId).setTimings(clock.toProto())
                        .setWindow(WindowInfo.newBuilder().setWindowStart(window.windowStart())
                                .setPruned(window.pruned()).setPrunedTurns(window.prunedTurns())
                                .setBudgetTokens(budget))
                        .setReplayed(replayed).setSampling(sampling.toProto())).build());
                stream.complete();
            } catch (RuntimeException e) {
                log.info("turn.client-gone-after-commit session={} request={} turn={} ({})", t.sessionId(),
                        t.requestId(), turnIndex, e.getMessage());
            }
            log.info("turn.commit session={} request={} worker={} turn={} version={} cache={} reused={} computed={} "
                    + "generated={} finish={} window={} ttft_ms={} total_ms={}{}", t.sessionId(), t.requestId(), workerId,
                    turnIndex, stored.index() + 1, CacheOutcomes.trailer(reported), reused, computed,
                    answerIds.length, finish, window.windowStart(), round(clock.ttftMs), round(clock.totalMs),
                    t.resume() ? " resumed_from=" + req.getResume().getFailedWorker() : "");

            // The cache now holds prompt + answer, except the last answer token when generation stopped at
            // max_tokens; feed it (after the client has its answer) so the next turn reuses the whole answer.
            try {
                if (stateless) {
                    // Nothing survives the turn: the blocks go back to the pool and the next turn starts empty.
                    cache.truncate(0);
                    committedLease.close();
                } else if (!replayed && Arrays.equals(stored.assistantTokens(), answerIds)) {
                    if (!lastForwarded && n > 0) {
                        model.forward(cache, answerIds, n - 1, n);
                    }
                    committedLease.complete(record.version() + 1, window.windowStart());
                } else {
                    cache.truncate(keep);
                    committedLease.close();
                }
            } catch (RuntimeException e) {
                log.warn("kv.complete-failed session={} ({}); dropping its cache", t.sessionId(), e.toString());
                cache.truncate(0);
                committedLease.close();
            }
        } catch (Throwable e) {
            if (lease != null) {
                try {
                    lease.cache().truncate(Math.min(restoreTo, lease.cache().size()));
                } catch (RuntimeException ignored) {
                    // the cache is dropped below anyway
                }
                lease.close();
                lease = null;
            }
            Status status = statusOf(e, t);
            if (status.getCode() == Status.Code.ABORTED) {
                metrics.aborted();
            } else {
                metrics.failed();
            }
            stream.trailer(CallMetadata.WORKER, workerId);
            stream.fail(status);
        }
    }

    /** An idempotent retry of a committed turn: the stored answer, nothing computed. */
    void replay(TurnRequest t, SessionRecord record, Turn turn, TurnStream stream, Clock clock, String why) {
        String workerId = identity.get();
        if (!turn.userText().equals(t.request().getMessage().getContent())) {
            throw Errors.invalid("request_id", "'" + t.requestId() + "' was already used in session '"
                    + t.sessionId() + "' for a different message (turn " + turn.index() + ")");
        }
        CacheOutcome outcome = CacheOutcomes.outcome(CacheStatus.CACHE_STATUS_REPLAY, CacheReason.CACHE_REASON_NONE,
                "replay of turn " + turn.index() + " committed by worker " + turn.workerId());
        stream.send(SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder().setRequestId(t.requestId())
                .setTurnIndex(turn.index()).setWorkerId(workerId).setCache(outcome)
                .setPromptTokens(turn.promptTokens())).build());
        stream.send(SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setText(turn.assistantText())
                .addAllTokenIds(Arrays.stream(turn.assistantTokens()).boxed().toList()).setIndex(0)).build());
        clock.ttftMs = ms(System.nanoTime() - clock.arrival);
        clock.totalMs = clock.ttftMs;
        stream.trailer(CallMetadata.WORKER, workerId);
        stream.trailer(CallMetadata.CACHE, CacheOutcomes.trailer(outcome));
        stream.send(SendMessageResponse.newBuilder().setComplete(TurnComplete.newBuilder()
                .setRequestId(t.requestId()).setTurnIndex(turn.index()).setVersion(turn.index() + 1L)
                .setText(turn.assistantText()).setFinishReason(FinishReason.forNumber(turn.finishReason()))
                .setUsage(Usage.newBuilder().setPromptTokens(turn.promptTokens())
                        .setGeneratedTokens(turn.assistantTokens().length))
                .setCache(outcome).setWorkerId(workerId).setTimings(clock.toProto())
                .setWindow(WindowInfo.newBuilder().setWindowStart(record.windowStart())
                        .setBudgetTokens(record.settings().contextBudgetTokens()))
                .setReplayed(true)
                .setSampling(TurnSampling.of(record.settings(), t.request().getSampling()).toProto())).build());
        stream.complete();
        metrics.replay();
        log.info("turn.replay session={} request={} worker={} turn={} committed_by={} ({})", t.sessionId(),
                t.requestId(), workerId, turn.index(), turn.workerId(), why);
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

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static double round(double ms) {
        return Math.round(ms * 10) / 10.0;
    }

    /** Where a turn's time went (Timings). */
    static final class Clock {
        final long arrival;
        double queueMs;
        double prepareMs;
        double prefillMs;
        double ttftMs;
        double decodeMs;
        double commitMs;
        double totalMs;

        Clock(long arrival) {
            this.arrival = arrival;
        }

        Timings toProto() {
            return Timings.newBuilder().setQueueMs(queueMs).setPrepareMs(prepareMs).setPrefillMs(prefillMs)
                    .setTtftMs(ttftMs).setDecodeMs(decodeMs).setCommitMs(commitMs).setTotalMs(totalMs).build();
        }
    }
}

package dev.warmroute.router;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.RoutingInfo;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.InternalCredential;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SendMessage call through the router: places the turn, relays the worker's stream, and when the worker fails
 * moves the turn to the next candidate (DESIGN.md, "A turn, step by step", steps 1 and 6).
 *
 * <ul>
 *   <li>Failure before the client saw any of the answer (refused connection, UNAVAILABLE, RESOURCE_EXHAUSTED, breaker
 *       open, bulkhead full): the next HRW candidate runs the turn from history, under the same request id, so a
 *       worker that committed before failing is replayed, not run twice.
 *   <li>Failure after tokens were streamed (UNAVAILABLE, or the worker left the cluster): the next candidate gets
 *       {@link ResumeState} with the tokens and text already sent and the router's internal credential; it prefills
 *       history + message + partial answer and continues. {@link AnswerSplice} keeps the client's stream continuous:
 *       TurnStarted once, deltas without gap or repetition, one TurnComplete.
 *   <li>Anything else (INVALID_ARGUMENT, NOT_FOUND, ABORTED, ...) reaches the client unchanged.
 * </ul>
 *
 * <p>Flow control: the worker call asks for one message at a time, and asks for the next only when the client's
 * transport is ready ({@code isReady}); otherwise it waits for the client's onReady. So a slow client slows the worker
 * down (the worker blocks on its own isReady), and the router holds at most one message per turn.
 *
 * <p>Threads: callbacks come from the client's call (server executor) and the worker's call (channel executor); all
 * state is guarded by this object's monitor and every write to the client happens under it.
 */
final class TurnProxy {

    private static final Logger log = LoggerFactory.getLogger(TurnProxy.class);
    static final int READY_THRESHOLD_BYTES = 1024;

    /** What every turn needs from the router. */
    record Env(Supplier<String> id, RouterConfig config, SessionRouter router, RouterMetrics metrics,
            Supplier<InternalCredential> credential, java.util.concurrent.Executor blocking) {
        /** The router's id (known once its port is bound). */
        String routerId() {
            return id.get();
        }
    }

    private final Env env;
    private final SendMessageRequest request;
    private final String sessionId;
    private final String requestId;
    private final ServerCallStreamObserver<SendMessageResponse> out;
    private final Context serverContext;
    private final Metadata forwardHeaders;
    private final Metadata trailers;
    private final long arrivalNanos;

    private Binding binding;
    /** The binding epoch reported in RoutingInfo: the binding's, or the one a move in progress will write. */
    private long epoch;
    /** Completes when the binding move of this turn (if any) and the actions waiting for it are done. */
    private java.util.concurrent.CompletableFuture<Void> bound = java.util.concurrent.CompletableFuture
            .completedFuture(null);
    private String preferred;
    private final List<String> attempted = new ArrayList<>();
    private final Map<String, String> excluded = new LinkedHashMap<>();
    private String fallbackReason = "";
    private String lastFailedWorker = "";
    private boolean resumed;
    /** The worker the session left when the serving attempt was a rebalancing move ("" otherwise). */
    private String rebalancedFrom = "";
    private int resumes;
    private double routerMs = -1;
    private final AnswerSplice splice = new AnswerSplice();
    private boolean startedSent;
    private int turnIndex = -1;
    private Attempt current;
    private boolean finished;
    private boolean wantMore;

    TurnProxy(Env env, SendMessageRequest request, ServerCallStreamObserver<SendMessageResponse> out,
            long arrivalNanos) {
        this.env = env;
        this.request = request;
        this.sessionId = request.getSessionId();
        this.requestId = request.getRequestId();
        this.out = out;
        this.serverContext = Context.current();
        this.forwardHeaders = CallerIdentity.forwardHeaders();
        this.trailers = CallMetadata.trailers();
        this.arrivalNanos = arrivalNanos;
    }

    /** Runs on the handler's thread: installs the client callbacks (they must be set before it returns), places. */
    void start() {
        // isReady() turns false once this many bytes wait unsent to the client (gRPC's default is 32 KiB, about a
        // thousand deltas), as on the worker: a slow client holds its turn a few dozen tokens ahead, not a thousand.
        out.setOnReadyThreshold(READY_THRESHOLD_BYTES);
        out.setOnReadyHandler(this::clientReady);
        env.metrics().turnBegan();
        out.setOnCancelHandler(() -> log.debug("turn.client-cancel session={} request={}", sessionId, requestId));
        Binding b = env.router().current(sessionId);
        synchronized (this) {
            binding = b;
            epoch = b == null ? 0 : b.epoch();
            next();
        }
    }

    /** Starts the next attempt, or ends the turn when no worker is left. Caller holds the monitor. */
    private void next() {
        while (!finished) {
            if (serverContext.isCancelled()) {
                finishCancelled();
                return;
            }
            if (attempted.size() >= env.config().maxAttempts()) {
                fail(Status.UNAVAILABLE.withDescription("gave up after " + attempted.size() + " attempts: "
                        + failures()), null);
                return;
            }
            SessionRouter.Plan plan = env.router().plan(sessionId, binding, excluded);
            Placement.Decision d = plan.decision();
            if (preferred == null) {
                preferred = d.preferred();
                if (d.fallback()) {
                    fallbackReason = d.preferredSkipReason();
                    env.metrics().fallback(d.preferredSkipKind());
                    log.info("turn.fallback session={} request={} preferred={} chosen={} reason=\"{}\"", sessionId,
                            requestId, preferred, d.chosen(), fallbackReason);
                }
            }
            if (plan.worker() == null) {
                fail(Status.UNAVAILABLE.withDescription(d.failure()), null);
                return;
            }
            WorkerHandle h = plan.worker();
            if (!h.bulkhead().tryAcquirePermission()) {
                h.release();
                skip(h.id(), "bulkhead full (" + env.config().bulkhead() + " calls in flight)", "bulkhead_full");
                continue;
            }
            if (!h.breaker().tryAcquirePermission()) {
                h.bulkhead().onComplete();
                h.release();
                skip(h.id(), "breaker " + h.breaker().getState().name().toLowerCase(java.util.Locale.ROOT)
                        + ", no trial call free", "breaker_open");
                continue;
            }
            attempted.add(h.id());
            current = new Attempt(h, splice.anySent(), d);
            wantMore = false;
            current.start();
            return;
        }
    }

    private void skip(String workerId, String reason, String metric) {
        excluded.put(workerId, reason);
        if (workerId.equals(preferred) && fallbackReason.isEmpty()) {
            fallbackReason = reason;
            env.metrics().fallback(metric);
        }
    }

    private String failures() {
        StringBuilder sb = new StringBuilder();
        excluded.forEach((w, why) -> sb.append(sb.isEmpty() ? "" : "; ").append(w).append(": ").append(why));
        return sb.toString();
    }

    private void clientReady() {
        synchronized (this) {
            if (wantMore && !finished && current != null && !current.done && out.isReady()) {
                wantMore = false;
                current.call.request(1);
            }
        }
    }

    /** After handling a worker event: ask for the next one now if the client can take it, else on its onReady. */
    private void requestMore(Attempt a) {
        if (out.isReady()) {
            a.call.request(1);
        } else {
            wantMore = true;
        }
    }

    private void onEvent(Attempt a, SendMessageResponse event) {
        if (a != current || a.done || finished) {
            return;
        }
        switch (event.getEventCase()) {
            case STARTED -> {
                a.started = true;
                if (routerMs < 0) {
                    routerMs = (a.startNanos - arrivalNanos) / 1e6;
                }
                rebind(a.worker.id(), a.decision);
                if (!startedSent) {
                    turnIndex = event.getStarted().getTurnIndex();
                    TurnStarted started = event.getStarted().toBuilder().setRouting(routing(a.worker.id())).build();
                    out.onNext(SendMessageResponse.newBuilder().setStarted(started).build());
                    startedSent = true;
                }
            }
            case DELTA -> {
                TokenDelta d;
                try {
                    d = splice.accept(event.getDelta());
                } catch (AnswerSplice.DivergenceException e) {
                    log.error("turn.diverged session={} request={} worker={} attempt={}: {}", sessionId, requestId,
                            a.worker.id(), attempted.size(), e.getMessage());
                    a.done = true;
                    a.call.cancel("answer diverged", null);
                    release(a, Outcome.SUCCESS, null);
                    fail(Status.INTERNAL.withDescription("router: worker " + a.worker.id() + " continued the answer "
                            + "differently from what was already streamed (" + e.getMessage() + "); nothing of this "
                            + "attempt was committed by the router, retry with the same request_id"), null);
                    return;
                }
                if (d != null) {
                    out.onNext(SendMessageResponse.newBuilder().setDelta(d).build());
                }
            }
            case COMPLETE -> {
                TurnComplete c = event.getComplete();
                a.complete = c;
                if (!c.getText().equals(splice.text())) {
                    log.warn("turn.text-mismatch session={} request={} worker={} streamed_chars={} committed_chars={}",
                            sessionId, requestId, a.worker.id(), splice.text().length(), c.getText().length());
                }
                if (!startedSent) {
                    // A worker always sends TurnStarted first; should one not, the client still gets the contract.
                    turnIndex = c.getTurnIndex();
                    out.onNext(SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder()
                            .setRequestId(c.getRequestId()).setTurnIndex(c.getTurnIndex()).setWorkerId(c.getWorkerId())
                            .setCache(c.getCache()).setRouting(routing(a.worker.id()))).build());
                    startedSent = true;
                }
                // A client that sees TurnComplete may send the next turn at once (through any router): the move of
                // the binding must be in place by then, or that turn would be placed from the old one.
                whenBound(() -> out.onNext(SendMessageResponse.newBuilder().setComplete(c.toBuilder()
                        .setRouting(routing(a.worker.id()))).build()));
            }
            default -> { }
        }
        requestMore(a);
    }

    /**
     * The worker accepted the turn: bind the session to it if it was bound elsewhere (or not at all). The
     * compare-and-set is a Hazelcast round trip, and worker callbacks run on the transport's threads, so it runs on a
     * blocking executor; RoutingInfo reports the epoch the move writes (and the winner's, should another router move
     * the session at the same moment, once known).
     */
    private void rebind(String workerId, Placement.Decision decision) {
        if (!env.router().mode().usesBindings()) {
            return;
        }
        Binding expected = binding;
        if (expected != null && expected.workerId().equals(workerId)) {
            return;
        }
        if (decision.rebalanced() && workerId.equals(decision.chosen())) {
            rebalancedFrom = decision.rebalancedFrom();
            log.info("turn.rebalance session={} request={} from={} to={} (a worker that joined after the session "
                    + "was bound is now its hash's first choice)", sessionId, requestId, rebalancedFrom, workerId);
        }
        epoch = expected == null ? 1 : expected.epoch() + 1;
        Binding.Kind kind = decision.kind();
        long horizon = decision.horizonMs();
        bound = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> env.router().bind(sessionId, expected, workerId, kind, horizon), env.blocking())
                .handle((now, error) -> {
                    synchronized (this) {
                        if (now != null) {
                            binding = now;
                            epoch = now.epoch();
                        }
                    }
                    return null;
                });
    }

    /**
     * Runs {@code action} (under this object's monitor) once the binding move started by {@link #rebind} is done:
     * at once when there is none. Actions run in the order they were given. Caller holds the monitor.
     */
    private void whenBound(Runnable action) {
        if (bound.isDone()) {
            action.run();
            return;
        }
        bound = bound.thenRun(() -> {
            synchronized (this) {
                action.run();
            }
        }).exceptionally(e -> {
            log.error("turn.after-bind-failed session={} request={}", sessionId, requestId, e);
            return null;
        });
    }

    private void onAttemptClosed(Attempt a, Status status) {
        if (a.done) {
            return;
        }
        a.done = true;
        if (a.complete != null) {
            // TurnComplete is sent only after the commit: the turn succeeded whatever happened to the stream after.
            release(a, Outcome.SUCCESS, null);
            whenBound(() -> finishOk(a));
            return;
        }
        if (status.isOk()) {
            status = Status.INTERNAL.withDescription("worker " + a.worker.id()
                    + " ended the stream without TurnComplete");
        }
        if (finished || serverContext.isCancelled() || out.isCancelled()) {
            release(a, Outcome.CANCELLED, null);
            if (!finished) {
                finishCancelled();
            }
            return;
        }
        Status effective = a.abandoned != null ? Status.UNAVAILABLE.withDescription(a.abandoned) : status;
        release(a, Outcome.FAILED, effective);
        String reason = effective.getCode() + (effective.getDescription() == null ? ""
                : ": " + effective.getDescription());
        boolean sent = splice.anySent();
        boolean retry = sent ? FailurePolicy.resumeAfterTokens(effective)
                : FailurePolicy.retryBeforeFirstToken(effective);
        if (!retry) {
            fail(effective, a.workerTrailers.get());
            return;
        }
        excluded.put(a.worker.id(), reason);
        lastFailedWorker = a.worker.id();
        if (a.worker.id().equals(preferred) && fallbackReason.isEmpty()) {
            fallbackReason = reason;
            env.metrics().fallback(effective.getCode().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (sent) {
            resumed = true;
            log.info("turn.resume session={} request={} failed_worker={} tokens_sent={} reason=\"{}\"", sessionId,
                    requestId, a.worker.id(), splice.tokenCount(), reason);
        } else {
            log.info("turn.retry session={} request={} failed_worker={} reason=\"{}\"", sessionId, requestId,
                    a.worker.id(), reason);
        }
        current = null;
        next();
    }

    private enum Outcome { SUCCESS, FAILED, CANCELLED }

    /** Gives back the attempt's slot, bulkhead permit and breaker permission, recording the outcome once. */
    private void release(Attempt a, Outcome outcome, Status status) {
        a.worker.untrack(a);
        a.worker.bulkhead().onComplete();
        a.worker.release();
        long nanos = System.nanoTime() - a.startNanos;
        switch (outcome) {
            case SUCCESS -> {
                a.worker.breaker().onSuccess(nanos, TimeUnit.NANOSECONDS);
                env.metrics().attempt(a.worker.id(), "ok");
            }
            case CANCELLED -> {
                // Says nothing about the worker.
                a.worker.breaker().releasePermission();
                env.metrics().attempt(a.worker.id(), "cancelled");
            }
            case FAILED -> {
                a.worker.breaker().onError(nanos, TimeUnit.NANOSECONDS, status.asRuntimeException());
                if (FailurePolicy.countsAgainstWorker(status.asRuntimeException())) {
                    a.worker.countFailure();
                }
                env.metrics().attempt(a.worker.id(), status.getCode().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    private RoutingInfo routing(String servingWorker) {
        boolean fallback = !servingWorker.equals(preferred);
        boolean rebalanced = !rebalancedFrom.isEmpty() && !resumed;
        return RoutingInfo.newBuilder().setRouterId(env.routerId()).setPreferredWorker(preferred)
                .addAllAttemptedWorkers(attempted).setFallback(fallback)
                .setFallbackReason(fallback || resumed ? fallbackReason : "").setResumed(resumed)
                .setBindingEpoch(epoch).setRouterMs(Math.max(0, routerMs)).setRebalanced(rebalanced)
                .setRebalancedFrom(rebalanced ? rebalancedFrom : "").setPlacement(env.router().mode().flag())
                .build();
    }

    private void finishOk(Attempt a) {
        finished = true;
        env.metrics().turnEnded();
        Metadata wt = a.workerTrailers.get();
        copy(wt, CallMetadata.WORKER);
        copy(wt, CallMetadata.CACHE);
        if (wt == null || !wt.containsKey(CallMetadata.WORKER)) {
            CallMetadata.setTrailer(trailers, CallMetadata.WORKER, a.complete.getWorkerId());
        }
        boolean fallback = !a.worker.id().equals(preferred);
        if (fallback || resumed) {
            CallMetadata.setTrailer(trailers, CallMetadata.FALLBACK, preferred + " -> " + a.worker.id() + ": "
                    + fallbackReason + (resumed ? " (resumed after " + resumes + " failure(s))" : ""));
        }
        out.onCompleted();
        boolean warm = a.complete.getCache().getStatus() == CacheStatus.CACHE_STATUS_WARM;
        env.metrics().completed(warm, fallback, resumed, !rebalancedFrom.isEmpty() && !resumed,
                routerMs / 1000.0);
        log.debug("turn.routed session={} request={} worker={} preferred={} attempts={} cache={} resumed={}",
                sessionId, requestId, a.worker.id(), preferred, attempted.size(),
                a.complete.getCache().getStatus(), resumed);
    }

    private void copy(Metadata from, Metadata.Key<String> key) {
        if (from != null && from.containsKey(key)) {
            CallMetadata.setTrailer(trailers, key, from.get(key));
        }
    }

    private void fail(Status status, Metadata workerTrailers) {
        finished = true;
        env.metrics().turnEnded();
        Metadata t = new Metadata();
        if (workerTrailers != null) {
            for (Metadata.Key<String> k : List.of(CallMetadata.WORKER, CallMetadata.CACHE)) {
                if (workerTrailers.containsKey(k)) {
                    t.put(k, workerTrailers.get(k));
                }
            }
        }
        if (!attempted.isEmpty() && (resumed || !excluded.isEmpty())) {
            t.put(CallMetadata.FALLBACK, CallMetadata.ascii("attempted " + String.join(",", attempted) + ": "
                    + failures()));
        }
        env.metrics().failed(status.getCode());
        log.info("turn.failed session={} request={} status={} message=\"{}\" attempted={}", sessionId, requestId,
                status.getCode(), status.getDescription(), attempted);
        if (!out.isCancelled()) {
            out.onError(status.asRuntimeException(t));
        }
    }

    private void finishCancelled() {
        finished = true;
        env.metrics().turnEnded();
        env.metrics().cancelled();
        log.info("turn.cancelled session={} request={} attempted={} tokens_sent={}", sessionId, requestId, attempted,
                splice.tokenCount());
    }

    /** One call to one worker for this turn. */
    private final class Attempt implements ClientResponseObserver<SendMessageRequest, SendMessageResponse>,
            WorkerHandle.Call {
        final WorkerHandle worker;
        final boolean resume;
        /** Placement's decision that chose this worker. */
        final Placement.Decision decision;
        final AtomicReference<Metadata> workerTrailers = new AtomicReference<>();
        long startNanos;
        volatile ClientCallStreamObserver<SendMessageRequest> call;
        volatile String abandoned;
        boolean started;
        boolean done;
        TurnComplete complete;

        Attempt(WorkerHandle worker, boolean resume, Placement.Decision decision) {
            this.worker = worker;
            this.resume = resume;
            this.decision = decision;
        }

        void start() {
            SendMessageRequest req = request;
            Metadata headers = new Metadata();
            headers.merge(forwardHeaders);
            if (resume) {
                InternalCredential credential = env.credential().get();
                resumes++;
                req = request.toBuilder().setResume(ResumeState.newBuilder()
                        .addAllTokenIds(java.util.Arrays.stream(splice.tokens()).boxed().toList())
                        .setText(splice.text()).setBaseVersion(turnIndex).setFailedWorker(lastFailedWorker)
                        .setAttempt(resumes)).build();
                if (credential != null) {
                    headers.put(InternalCredential.METADATA_KEY, credential.token());
                }
            }
            splice.newAttempt();
            ChatServiceGrpc.ChatServiceStub stub = ChatServiceGrpc.newStub(worker.channel()).withInterceptors(
                    MetadataUtils.newAttachHeadersInterceptor(headers),
                    MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), workerTrailers));
            if (serverContext.getDeadline() == null) {
                stub = stub.withDeadlineAfter(env.config().turnTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
            startNanos = System.nanoTime();
            final SendMessageRequest send = req;
            final ChatServiceGrpc.ChatServiceStub s = stub;
            // Tracked before the call exists, so that release() (which may even run inside sendMessage: a call that
            // fails at once reports on this thread) always comes after it.
            worker.track(this);
            // Created in the client's context: its cancellation and deadline reach the worker by themselves.
            serverContext.run(() -> s.sendMessage(send, this));
            String reason = abandoned;
            if (reason != null && call != null && !done) {
                call.cancel(reason, null); // the worker left while the call was being created
            }
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<SendMessageRequest> requestStream) {
            call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
        }

        @Override
        public void onNext(SendMessageResponse value) {
            synchronized (TurnProxy.this) {
                onEvent(this, value);
            }
        }

        @Override
        public void onError(Throwable t) {
            synchronized (TurnProxy.this) {
                onAttemptClosed(this, Status.fromThrowable(t));
            }
        }

        @Override
        public void onCompleted() {
            synchronized (TurnProxy.this) {
                onAttemptClosed(this, Status.OK);
            }
        }

        @Override
        public void abandon(String reason) {
            abandoned = reason;
            ClientCallStreamObserver<SendMessageRequest> c = call;
            if (c != null) {
                c.cancel(reason, null);
            }
        }
    }
}

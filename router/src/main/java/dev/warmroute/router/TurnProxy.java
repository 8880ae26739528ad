package dev.warmroute.router;

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
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Arrays;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SendMessage call through the router: the attempt loop. Each attempt is placed ({@link SessionRouter#place}),
 * admitted by its worker ({@link Permit}) and relayed ({@link Relay}); when the worker fails, the turn goes on to the
 * next candidate (DESIGN.md, "A turn, step by step", steps 1 and 6):
 *
 * <ul>
 *   <li>Failure before the client saw any of the answer (refused connection, UNAVAILABLE, breaker open, bulkhead
 *       full): the next HRW candidate runs the turn from history, under the same request id, so a worker that
 *       committed before failing is replayed, not run twice.
 *   <li>A full worker (RESOURCE_EXHAUSTED before the first token): one other worker under its bound is tried
 *       ({@link FailurePolicy#LOAD_RETRIES}); when that one is full too, or none has room, or every worker is at its
 *       capacity already at placement, the turn is refused at once ({@link LoadShed}: RESOURCE_EXHAUSTED with
 *       retry-after). Load never counts against a breaker.
 *   <li>Failure after tokens were streamed (UNAVAILABLE, or the worker left the cluster): the next candidate gets
 *       {@link ResumeState} with the tokens and text already sent and the router's internal credential; it prefills
 *       history + message + partial answer and continues. {@link AnswerSplice} keeps the client's stream continuous:
 *       TurnStarted once, deltas without gap or repetition, one TurnComplete.
 *   <li>Anything else (INVALID_ARGUMENT, NOT_FOUND, ABORTED, ...) reaches the client unchanged.
 * </ul>
 *
 * <p>The worker that accepts the turn gets the session's binding ({@link BindingMove}); {@link RoutingReport} says how
 * the turn was routed.
 *
 * <p>Threads: callbacks come from the client's call (server executor) and the worker's call (transport threads); all
 * state is guarded by this object's monitor and every write to the client happens under it.
 */
final class TurnProxy implements Relay.Listener {

    private static final Logger log = LoggerFactory.getLogger(TurnProxy.class);
    static final int READY_THRESHOLD_BYTES = 1024;

    private final RouterEnv env;
    private final SendMessageRequest request;
    private final String sessionId;
    private final String requestId;
    private final ServerCallStreamObserver<SendMessageResponse> out;
    private final Context serverContext;
    private final Metadata forwardHeaders;
    private final Metadata trailers;
    private final long arrivalNanos;
    private final RoutingReport report;
    private final AnswerSplice splice = new AnswerSplice();
    private BindingMove binding;
    private boolean startedSent;
    private int turnIndex = -1;
    /** The attempt running now; null between attempts. */
    private Relay current;
    /** The worker's TurnComplete, once it came: the turn succeeded whatever happens to the stream after. */
    private TurnComplete completed;
    private boolean finished;
    /** The last RESOURCE_EXHAUSTED a worker answered before the first token, its trailers, and whether it meant full. */
    private Status fullStatus;
    private Metadata fullTrailers;
    private boolean fullMarked;

    TurnProxy(RouterEnv env, SendMessageRequest request, ServerCallStreamObserver<SendMessageResponse> out,
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
        this.report = new RoutingReport(env, sessionId, requestId, arrivalNanos);
    }

    /**
     * Runs on the handler's thread: installs the client callbacks (they must be set before it returns), reads the
     * binding and places the first attempt (both may block on the cluster store, which only this thread may do).
     */
    void start() {
        // isReady() turns false once this many bytes wait unsent to the client (gRPC's default is 32 KiB, about a
        // thousand deltas), as on the worker: a slow client holds its turn a few dozen tokens ahead, not a thousand.
        out.setOnReadyThreshold(READY_THRESHOLD_BYTES);
        out.setOnReadyHandler(this::clientReady);
        out.setOnCancelHandler(() -> log.debug("turn.client-cancel session={} request={}", sessionId, requestId));
        if (env.router().everyWorkerFull()) {
            synchronized (this) {
                shed(LoadShed.Reason.AT_CAPACITY);
            }
            return;
        }
        BindingMove b = env.router().bindingMove(sessionId);
        synchronized (this) {
            binding = b;
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
            if (report.attempts() >= env.config().maxAttempts()) {
                fail(Status.UNAVAILABLE.withDescription("gave up after " + report.attempts() + " attempts: "
                        + report.failures()), null);
                return;
            }
            SessionRouter.Placed placed = env.router().place(binding, report.excluded());
            report.placed(placed.decision());
            boolean afterFull = report.fullRefusals() > 0;
            switch (placed.admission()) {
                case null -> {
                    if (afterFull) {
                        endFull();
                    } else if (placed.decision().full()) {
                        shed(LoadShed.Reason.AT_CAPACITY);
                    } else {
                        fail(Status.UNAVAILABLE.withDescription(placed.decision().failure()), null);
                    }
                    return;
                }
                case Admission.Refusal r -> report.refused(r);
                case Permit p -> {
                    if (afterFull && placed.decision().overLoadBound()) {
                        // A full worker's turn goes to another worker only if that one is under its bound: one over
                        // it would make the turn wait, and the client is better served by a fast refusal.
                        p.onCancelled();
                        endFull();
                        return;
                    }
                    attempt(p, placed.decision());
                    return;
                }
            }
        }
    }

    /** Starts one attempt on the admitted worker; after tokens were sent, as a resume. Caller holds the monitor. */
    private void attempt(Permit permit, PlacementDecision decision) {
        boolean resume = splice.anySent();
        int resumeNumber = report.attempting(permit.worker().id(), resume);
        SendMessageRequest req = request;
        Metadata headers = new Metadata();
        headers.merge(forwardHeaders);
        // The worker reports its load per router, so that every router bounds it by its capacity.
        headers.put(CallMetadata.ROUTER, env.routerId());
        if (resume) {
            req = request.toBuilder().setResume(ResumeState.newBuilder()
                    .addAllTokenIds(Arrays.stream(splice.tokens()).boxed().toList()).setText(splice.text())
                    .setBaseVersion(turnIndex).setFailedWorker(report.lastFailedWorker()).setAttempt(resumeNumber))
                    .build();
        }
        // Every call to a worker carries the cluster's credential: it is what lets the worker trust the owner this
        // router forwards (with authentication on) and accept a resume.
        InternalCredential credential = env.credential().get();
        if (credential != null) {
            headers.put(InternalCredential.METADATA_KEY, credential.token());
        }
        splice.newAttempt();
        current = new Relay(permit, decision, out, this, this);
        current.start(req, headers, serverContext, env.config().turnTimeout());
    }

    private void clientReady() {
        synchronized (this) {
            if (!finished && current != null) {
                current.clientReady();
            }
        }
    }

    @Override
    public boolean onMessage(Relay a, SendMessageResponse event) {
        if (a != current || finished) {
            return false;
        }
        switch (event.getEventCase()) {
            case STARTED -> {
                report.accepted(a, arrivalNanos);
                // The worker accepted the turn: the session lives there now.
                if (binding.moveTo(a.worker().id(), a.decision())) {
                    report.moved(a);
                }
                if (!startedSent) {
                    turnIndex = event.getStarted().getTurnIndex();
                    sendStarted(SendMessageResponse.newBuilder().setStarted(event.getStarted().toBuilder()
                            .setRouting(routing(a))).build());
                }
            }
            case DELTA -> {
                TokenDelta d;
                try {
                    d = splice.accept(event.getDelta());
                } catch (AnswerSplice.DivergenceException e) {
                    diverged(a, e);
                    return false;
                }
                if (d != null) {
                    out.onNext(SendMessageResponse.newBuilder().setDelta(d).build());
                }
            }
            case COMPLETE -> {
                TurnComplete c = event.getComplete();
                if (!c.getText().equals(splice.text())) {
                    log.warn("turn.text-mismatch session={} request={} worker={} streamed_chars={} committed_chars={}",
                            sessionId, requestId, a.worker().id(), splice.text().length(), c.getText().length());
                }
                if (!startedSent) {
                    // A worker always sends TurnStarted first; should one not, the client still gets the contract.
                    turnIndex = c.getTurnIndex();
                    sendStarted(SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder()
                            .setRequestId(c.getRequestId()).setTurnIndex(c.getTurnIndex()).setWorkerId(c.getWorkerId())
                            .setCache(c.getCache()).setRouting(routing(a))).build());
                }
                completed = c;
                // A client that sees TurnComplete may send the next turn at once (through any router): the move of
                // the binding must be in place by then, or that turn would be placed from the old one.
                whenMoved(() -> out.onNext(SendMessageResponse.newBuilder().setComplete(c.toBuilder()
                        .setRouting(routing(a))).build()));
            }
            default -> { }
        }
        return true;
    }

    private void sendStarted(SendMessageResponse started) {
        out.onNext(started);
        startedSent = true;
    }

    private RoutingInfo routing(Relay a) {
        return report.routing(a.worker().id(), binding.epoch());
    }

    /** A later worker continued the answer differently from what the client has: stop rather than splice. */
    private void diverged(Relay a, AnswerSplice.DivergenceException e) {
        log.error("turn.diverged session={} request={} worker={} attempt={}: {}", sessionId, requestId,
                a.worker().id(), report.attempts(), e.getMessage());
        a.cancel("answer diverged");
        endOk(a); // the worker did its job as far as it knows; the divergence is the router's finding
        fail(Status.INTERNAL.withDescription("router: worker " + a.worker().id() + " continued the answer "
                + "differently from what was already streamed (" + e.getMessage() + "); nothing of this attempt was "
                + "committed by the router, retry with the same request_id"), null);
    }

    /** Runs {@code action} under this object's monitor once the binding's move is done. Caller holds the monitor. */
    private void whenMoved(Runnable action) {
        binding.whenDone(() -> {
            synchronized (this) {
                action.run();
            }
        });
    }

    @Override
    public void onClose(Relay a, Status status) {
        if (completed != null) {
            endOk(a);
            TurnComplete c = completed;
            whenMoved(() -> finishOk(a, c));
            return;
        }
        if (status.isOk()) {
            status = Status.INTERNAL.withDescription("worker " + a.worker().id()
                    + " ended the stream without TurnComplete");
        }
        if (finished || serverContext.isCancelled() || out.isCancelled()) {
            a.permit().onCancelled();
            report.attemptEnded(a.worker(), "cancelled", null);
            if (!finished) {
                finishCancelled();
            }
            return;
        }
        String abandoned = a.permit().abandoned();
        Status effective = abandoned != null ? Status.UNAVAILABLE.withDescription(abandoned) : status;
        a.permit().onFailed(effective);
        report.attemptEnded(a.worker(), effective.getCode().name().toLowerCase(Locale.ROOT), effective);
        boolean sent = splice.anySent();
        if (!sent && FailurePolicy.isLoad(effective)) {
            Metadata wt = a.workerTrailers();
            fullStatus = effective;
            fullTrailers = wt;
            fullMarked = wt != null && wt.containsKey(CallMetadata.OVERLOADED);
            if (report.refusedAsFull(a.worker().id()) > FailurePolicy.LOAD_RETRIES) {
                report.excluded().put(a.worker().id(), RoutingReport.describe(effective));
                endFull();
                return;
            }
        }
        boolean goOn = sent ? FailurePolicy.resumeAfterTokens(effective)
                : FailurePolicy.retryBeforeFirstToken(effective);
        if (!goOn) {
            fail(effective, a.workerTrailers());
            return;
        }
        report.goingOn(a.worker().id(), effective, sent, splice.tokenCount());
        current = null;
        next();
    }

    /**
     * Ends a turn that a worker refused as full and that found no second worker with room (or whose second worker was
     * full too): RESOURCE_EXHAUSTED with retry-after when the refusal was for load (the worker's
     * {@code x-warmroute-overloaded} trailer); the worker's own status otherwise (a full context: the turn does not
     * fit, and waiting will not change that). Caller holds the monitor.
     */
    private void endFull() {
        if (fullMarked) {
            shed(LoadShed.Reason.WORKERS_FULL);
        } else {
            fail(fullStatus, fullTrailers);
        }
    }

    private void shed(LoadShed.Reason reason) {
        finished = true;
        StatusRuntimeException e = report.shed(reason);
        if (!out.isCancelled()) {
            out.onError(e);
        }
    }

    private void endOk(Relay a) {
        a.permit().onSuccess();
        report.attemptEnded(a.worker(), "ok", null);
    }

    private void finishOk(Relay a, TurnComplete c) {
        finished = true;
        report.succeeded(a.worker().id(), c, a.workerTrailers(), trailers);
        out.onCompleted();
    }

    private void fail(Status status, Metadata workerTrailers) {
        finished = true;
        StatusRuntimeException e = report.failed(status, workerTrailers);
        if (!out.isCancelled()) {
            out.onError(e);
        }
    }

    private void finishCancelled() {
        finished = true;
        report.cancelled(splice.tokenCount());
    }
}

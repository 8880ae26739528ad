package dev.warmroute.worker;

import com.google.protobuf.ByteString;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.DeleteSessionResponse;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ListSessionsResponse;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.LogSafe;
import dev.warmroute.cluster.RequestChecks;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.StoredSettings;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's ChatService. Handlers run on gRPC's executor and never compute: SendMessage validates, takes its
 * place in the session's line ({@link SessionGate}) and in the compute queue ({@link ComputeQueue}), and returns;
 * the turn runs on a compute thread ({@link TurnRunner}). Session CRUD calls are one history-store call each, with
 * the store's deadline.
 */
final class ChatService extends ChatServiceGrpc.ChatServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(ChatService.class);
    private static final InternalErrors ERRORS = new InternalErrors("worker", log, "call.error");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EngineModel model;
    private final PromptWindow window;
    private final SessionStore store;
    private final KvCacheManager caches;
    private final SessionGate gate;
    private final ComputeQueue compute;
    private final TurnRunner runner;
    private final InternalCredential credential;
    private final ActiveTurns active;
    private final WorkerMetrics metrics;
    private final Duration streamStall;
    private final SessionLimits limits;
    private volatile boolean shuttingDown;
    private volatile boolean starting;

    ChatService(EngineModel model, PromptWindow window, SessionStore store, KvCacheManager caches, SessionGate gate,
            ComputeQueue compute, TurnRunner runner, InternalCredential credential, ActiveTurns active,
            WorkerMetrics metrics, Duration streamStall, SessionLimits limits) {
        this.limits = limits;
        this.model = model;
        this.window = window;
        this.store = store;
        this.caches = caches;
        this.gate = gate;
        this.compute = compute;
        this.runner = runner;
        this.credential = credential;
        this.active = active;
        this.metrics = metrics;
        this.streamStall = streamStall;
    }

    /** While starting (not yet registered), calls get UNAVAILABLE. */
    void starting(boolean value) {
        starting = value;
    }

    /** From now on new turns get UNAVAILABLE; running ones finish. */
    void shutDown() {
        shuttingDown = true;
    }

    @Override
    public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> observer) {
        long arrival = System.nanoTime();
        ServerCallStreamObserver<SendMessageResponse> call = (ServerCallStreamObserver<SendMessageResponse>) observer;
        TurnStream stream = new TurnStream(call, Context.current().getDeadline(), streamStall, CallMetadata.trailers());
        TurnRunner.TurnRequest turn;
        try {
            if (shuttingDown || starting) {
                throw Errors.unavailable("worker " + (starting ? "starting" : "shutting down")
                        + "; retry on another worker with the same request_id");
            }
            turn = validate(request, arrival);
        } catch (StatusRuntimeException e) {
            metrics.failed();
            log.info("turn.rejected session={} status={} message=\"{}\"", LogSafe.id(request.getSessionId()),
                    e.getStatus().getCode(), LogSafe.text(e.getStatus().getDescription()));
            stream.fail(e.getStatus());
            return;
        }
        String router = active.routerKey(CallerIdentity.header(CallMetadata.ROUTER));
        active.begin(router);
        CompletableFuture<SessionGate.Permit> permit = gate.acquire(turn.sessionId());
        stream.onCancel(() -> permit.cancel(false));
        permit.whenComplete((p, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                if (!(cause instanceof CancellationException)) {
                    Status status = Errors.statusOf(cause);
                    metrics.aborted();
                    log.info("turn.aborted session={} request={} message={}", turn.sessionId(), turn.requestId(),
                            status == null ? cause.toString() : status.getDescription());
                    stream.fail(status != null ? status : Status.ABORTED.withDescription(cause.toString()));
                } else {
                    metrics.failed();
                }
                active.end(router);
                return;
            }
            if (stream.cancelled()) {
                p.close();
                metrics.failed();
                active.end(router);
                return;
            }
            try {
                compute.submit(slot -> {
                    // The next turn of the session may start once this one's final event is on its way.
                    stream.beforeFinalEvent(() -> {
                        p.close();
                        slot.close();
                    });
                    try {
                        runner.run(turn, stream);
                    } finally {
                        p.close();
                        active.end(router);
                    }
                });
            } catch (StatusRuntimeException e) {
                p.close();
                metrics.failed();
                log.info("turn.rejected session={} request={} message={}", turn.sessionId(), turn.requestId(),
                        e.getStatus().getDescription());
                // Full, not broken: routers try one other worker, then answer RESOURCE_EXHAUSTED with retry-after.
                stream.trailer(CallMetadata.OVERLOADED, "compute queue full (capacity " + compute.capacity() + ")");
                stream.fail(e.getStatus());
                active.end(router);
            }
        });
    }

    private TurnRunner.TurnRequest validate(SendMessageRequest r, long arrival) {
        boolean fromRouter = credential != null
                && credential.matches(CallerIdentity.header(InternalCredential.METADATA_KEY));
        RequestChecks.sendMessage(r, fromRouter);
        String requestId = r.getRequestId().isEmpty() ? "r-" + UUID.randomUUID() : r.getRequestId();
        boolean resume = r.hasResume();
        if (resume) {
            int vocab = model.vocabSize();
            for (int i = 0; i < r.getResume().getTokenIdsCount(); i++) {
                int id = r.getResume().getTokenIds(i);
                if (id < 0 || id >= vocab || model.stopTokens().contains(id)) {
                    throw Errors.invalid("resume.token_ids[" + i + "]", id + " is not an answer token of this model"
                            + " (vocabulary 0.." + (vocab - 1) + ", stop tokens excluded)");
                }
            }
        }
        return new TurnRunner.TurnRequest(r, r.getSessionId(), requestId, CallerIdentity.owner(), resume, arrival);
    }

    @Override
    public void createSession(CreateSessionRequest r, StreamObserver<Session> out) {
        unary(out, () -> {
            String id = RequestChecks.createSession(r);
            SessionSettings s = r.getSettings();
            RequestChecks.contextBudget(s, model.contextLength());
            if (id.isEmpty()) {
                byte[] b = new byte[12];
                RANDOM.nextBytes(b);
                id = "s-" + HexFormat.of().formatHex(b);
            }
            StoredSettings settings = resolve(s);
            int[] system = model.encodeContent(r.getSystemPrompt());
            window.checkRoomForATurn(system, !r.getSystemPrompt().isEmpty(), settings);
            SessionRecord record = SessionRecord.create(id, CallerIdentity.owner(), model.id(), r.getSystemPrompt(),
                    system, model.tokenizerFingerprint(), settings, System.currentTimeMillis(), createDigest(id, r));
            try {
                limits.checkNewSession(record.owner(), store);
            } catch (StatusRuntimeException full) {
                if (store.get(id) == null) {
                    throw full; // a new session over a limit; an existing id goes on (allow_existing, a retry)
                }
            }
            SessionStore.Created created = store.create(record, r.getAllowExisting());
            if (created.created()) {
                log.info("session.create session={} owner={} budget={} policy={} system_tokens={}", id,
                        record.owner(), settings.contextBudgetTokens(),
                        PruningPolicy.forNumber(settings.pruningPolicy()), system.length);
            }
            return SessionViews.toProto(created.record(), window, false);
        });
    }

    /**
     * What identifies a CreateSession request across retries (by the router or the client, on any worker): the id,
     * the owner, the system prompt and the settings as sent. A retry whose first attempt landed finds a session with
     * the same digest and gets it back instead of ALREADY_EXISTS (its server-chosen seed and create time are the first
     * attempt's).
     */
    static String createDigest(String id, CreateSessionRequest r) {
        try {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            for (String part : List.of(id, CallerIdentity.owner(), r.getSystemPrompt())) {
                d.update(part.getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            d.update(r.getSettings().toByteArray());
            return "v1:" + HexFormat.of().formatHex(d.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Fills server defaults; a stored session never has unset settings. */
    StoredSettings resolve(SessionSettings s) {
        int budget = s.getContextBudgetTokens() == 0 ? model.contextLength() : s.getContextBudgetTokens();
        PruningPolicy policy = s.getPruningPolicy() == PruningPolicy.PRUNING_POLICY_UNSPECIFIED
                ? PruningPolicy.PRUNING_POLICY_WATERMARK : s.getPruningPolicy();
        int watermark = s.getLowWatermarkPercent() == 0 ? ApiLimits.DEFAULT_LOW_WATERMARK : s.getLowWatermarkPercent();
        SamplingParams p = s.getSampling();
        int maxTokens;
        if (p.hasMaxTokens()) {
            maxTokens = p.getMaxTokens();
            PromptWindow.checkMaxTokens("settings.sampling.max_tokens", maxTokens, "the context budget", budget);
        } else {
            // The server default, but never more than half the budget, so that a small budget still has room.
            maxTokens = Math.min(ApiLimits.DEFAULT_MAX_TOKENS, budget / 2);
        }
        return new StoredSettings(budget, policy.getNumber(), watermark,
                p.hasTemperature() ? p.getTemperature() : ApiLimits.DEFAULT_TEMPERATURE,
                p.hasTopP() ? p.getTopP() : ApiLimits.DEFAULT_TOP_P,
                p.hasSeed() ? p.getSeed() : RANDOM.nextLong(), maxTokens);
    }

    @Override
    public void getSession(GetSessionRequest r, StreamObserver<Session> out) {
        unary(out, () -> {
            String id = RequestChecks.sessionId(r.getSessionId());
            SessionRecord record = store.get(id);
            if (record == null || !record.owner().equals(CallerIdentity.owner())) {
                throw Errors.notFound(id);
            }
            return SessionViews.toProto(record, window, r.getIncludeMessages());
        });
    }

    @Override
    public void deleteSession(DeleteSessionRequest r, StreamObserver<DeleteSessionResponse> out) {
        unary(out, () -> {
            String id = RequestChecks.sessionId(r.getSessionId());
            boolean deleted = store.delete(id, CallerIdentity.owner());
            if (deleted) {
                // Not otherwise: false is also the answer for another owner's session, whose cache stays warm.
                caches.drop(id);
            }
            if (!deleted && !r.getAllowMissing()) {
                throw Errors.notFound(id);
            }
            if (deleted) {
                log.info("session.delete session={}", id);
            }
            return DeleteSessionResponse.newBuilder().setDeleted(deleted).build();
        });
    }

    @Override
    public void listSessions(ListSessionsRequest r, StreamObserver<ListSessionsResponse> out) {
        unary(out, () -> {
            int size = RequestChecks.pageSize(r.getPageSize());
            String owner = CallerIdentity.owner();
            PageToken after = PageToken.decode(r.getPageToken(), owner);
            // One more than the page: whether there is a next page, without reading further.
            List<SessionRecord> page = store.pageByOwner(owner, after == null ? 0 : after.updateTimeMs(),
                    after == null ? null : after.sessionId(), size + 1);
            ListSessionsResponse.Builder b = ListSessionsResponse.newBuilder();
            int added = 0;
            SessionRecord last = null;
            boolean more = false;
            for (SessionRecord rec : page) {
                if (after != null && !after.isBefore(rec)) {
                    continue; // updated since its page was read: it moved up, and is not listed twice
                }
                if (added == size) {
                    more = true;
                    break;
                }
                b.addSessions(SessionViews.toProto(rec, window, false));
                last = rec;
                added++;
            }
            if (more) {
                b.setNextPageToken(new PageToken(last.updateTimeMs(), last.sessionId()).encode(owner));
            }
            return b.build();
        });
    }

    /** Runs a unary handler: any status it throws goes to the client; anything else is INTERNAL with an id. */
    private <T> void unary(StreamObserver<T> out, java.util.function.Supplier<T> handler) {
        if (shuttingDown || starting) {
            out.onError(Errors.unavailable("worker " + (starting ? "starting" : "shutting down")
                    + "; retry on another worker"));
            return;
        }
        // Unary handlers block on the map or the store, each on a thread of gRPC's (unbounded) pool: without a
        // bound, a flood of them (or a slow store) grows threads and memory without end. Past the bound they are
        // refused at once, which a router or client retries; turns are bounded by the compute queue instead.
        if (!unaryPermits.tryAcquire()) {
            // Load, not a limit of the caller's: marked as such, so that a router tries another worker.
            io.grpc.Metadata trailers = new io.grpc.Metadata();
            trailers.put(CallMetadata.OVERLOADED, "session calls in flight (limit " + MAX_UNARY_IN_FLIGHT + ")");
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("worker busy: " + MAX_UNARY_IN_FLIGHT
                    + " session calls (Create/Get/List/DeleteSession) in flight, the limit; retry shortly")
                    .asRuntimeException(trailers));
            return;
        }
        try {
            ERRORS.unary(out, handler);
        } finally {
            unaryPermits.release();
        }
    }

    /** Session calls (not turns) that may block a thread at once. */
    static final int MAX_UNARY_IN_FLIGHT = 256;
    private final java.util.concurrent.Semaphore unaryPermits = new java.util.concurrent.Semaphore(MAX_UNARY_IN_FLIGHT);

    /**
     * A ListSessions cursor: the (update time, id) of the last session returned; the next page starts after it in
     * {@link SessionStore#RECENT_FIRST} order. It names the owner (hashed) so a token of another owner is refused.
     */
    record PageToken(long updateTimeMs, String sessionId) {

        /** True when {@code r} comes after this cursor (more recent sessions come first, then by id). */
        boolean isBefore(SessionRecord r) {
            if (r.updateTimeMs() != updateTimeMs) {
                return r.updateTimeMs() < updateTimeMs;
            }
            return r.sessionId().compareTo(sessionId) > 0;
        }

        String encode(String owner) {
            String raw = "v1:" + ownerTag(owner) + ":" + updateTimeMs + ":" + sessionId;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        static PageToken decode(String token, String owner) {
            if (token == null || token.isEmpty()) {
                return null;
            }
            try {
                String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
                String[] parts = raw.split(":", 4);
                if (parts.length == 4 && parts[0].equals("v1") && parts[1].equals(ownerTag(owner))) {
                    return new PageToken(Long.parseLong(parts[2]), parts[3]);
                }
            } catch (IllegalArgumentException e) {
                // falls through to the error below
            }
            throw Errors.invalid("page_token", "not issued by this service for this owner; pass the "
                    + "next_page_token of the previous ListSessions call unchanged");
        }

        private static String ownerTag(String owner) {
            return Integer.toHexString(ByteString.copyFromUtf8(owner).hashCode());
        }
    }
}

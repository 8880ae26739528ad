package dev.warmroute.router;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.DeleteSessionResponse;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ListSessionsResponse;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.LogSafe;
import dev.warmroute.cluster.RequestChecks;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ChatService on the router: the same contract as on a worker, forwarded to workers.
 *
 * <p>SendMessage goes through {@link TurnProxy} (placement, failover, resume). CreateSession goes to the session's
 * placement and creates its binding, so the first turn finds it; GetSession, DeleteSession and ListSessions go to
 * any serving worker (the session's or the owner's hash order, so repeated calls spread evenly), retried on the next
 * one when a worker is unavailable. DeleteSession also removes the binding.
 *
 * <p>Every call to a worker runs under a {@link Permit} from its {@link WorkerHandle}, ended with exactly one outcome:
 * CreateSession is placed like a turn (slot, bulkhead, breaker); the forwarded calls take the breaker's permission
 * only. Handlers run on virtual threads (the server's executor), so the unary forwards block on the worker call; the
 * call is made in the client's gRPC context, so its deadline and cancellation reach the worker.
 */
final class ChatProxy extends ChatServiceGrpc.ChatServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(ChatProxy.class);
    /** Unary handlers: statuses go to the client as they are, anything else is INTERNAL with an id. */
    private static final InternalErrors ERRORS = new InternalErrors("router", log, "call.error");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RouterEnv env;
    private final WorkerDirectory directory;
    private final BooleanSupplier ready;

    ChatProxy(RouterEnv env, WorkerDirectory directory, BooleanSupplier ready) {
        this.env = env;
        this.directory = directory;
        this.ready = ready;
    }

    @Override
    public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> observer) {
        long arrival = System.nanoTime();
        try {
            requireReady();
            RequestChecks.sendMessage(request);
        } catch (StatusRuntimeException e) {
            env.metrics().failed(e.getStatus().getCode());
            log.info("turn.rejected session={} status={} message=\"{}\"", LogSafe.id(request.getSessionId()),
                    e.getStatus().getCode(), LogSafe.text(e.getStatus().getDescription()));
            observer.onError(e);
            return;
        }
        SendMessageRequest r = request.getRequestId().isEmpty()
                ? request.toBuilder().setRequestId("r-" + UUID.randomUUID()).build() : request;
        new TurnProxy(env, r, (ServerCallStreamObserver<SendMessageResponse>) observer, arrival).start();
    }

    @Override
    public void createSession(CreateSessionRequest request, StreamObserver<Session> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            String id = RequestChecks.createSession(request);
            if (id.isEmpty()) {
                byte[] b = new byte[12];
                RANDOM.nextBytes(b);
                id = "s-" + HexFormat.of().formatHex(b);
            }
            CreateSessionRequest create = request.toBuilder().setSessionId(id).build();
            Map<String, String> excluded = new LinkedHashMap<>();
            Binding binding = env.router().binding(id);
            for (int attempt = 0; attempt < env.config().maxAttempts(); attempt++) {
                SessionRouter.Placed placed = env.router().place(id, binding, excluded);
                switch (placed.admission()) {
                    case null -> throw placed.decision().full()
                            ? LoadShed.refuse(env, id, "", LoadShed.Reason.AT_CAPACITY, "", new io.grpc.Metadata())
                            : Status.UNAVAILABLE.withDescription(placed.decision().failure()).asRuntimeException();
                    case Admission.Refusal r -> excluded.put(r.workerId(), r.why() == Admission.Why.AT_CAPACITY
                            ? r.reason() : "UNAVAILABLE: " + r.reason());
                    case Permit p -> {
                        try {
                            Session s = call(p, ChatServiceGrpc.getCreateSessionMethod(), create);
                            if (binding == null) {
                                env.router().bind(id, null, p.worker().id(), placed.decision().kind(),
                                        placed.decision().horizonMs());
                            }
                            return s;
                        } catch (StatusRuntimeException e) {
                            if (!retryable(e)) {
                                throw e;
                            }
                            excluded.put(p.worker().id(), describe(e));
                        }
                    }
                }
            }
            throw Status.UNAVAILABLE.withDescription("gave up after " + excluded.size() + " attempts: "
                    + describe(excluded)).asRuntimeException();
        });
    }

    @Override
    public void getSession(GetSessionRequest request, StreamObserver<Session> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            String id = RequestChecks.sessionId(request.getSessionId());
            return forward(id, ChatServiceGrpc.getGetSessionMethod(), request);
        });
    }

    @Override
    public void deleteSession(DeleteSessionRequest request, StreamObserver<DeleteSessionResponse> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            String id = RequestChecks.sessionId(request.getSessionId());
            DeleteSessionResponse r = forward(id, ChatServiceGrpc.getDeleteSessionMethod(), request);
            // Only the owner's delete moves anything: a NOT_FOUND (or deleted=false) is also what another
            // principal gets for a session that exists, and unbinding it then would let anyone force any session
            // cold by id. A binding of a session that is really gone is harmless: the next CreateSession rebinds.
            if (r.getDeleted()) {
                env.router().unbind(id);
            }
            return r;
        });
    }

    @Override
    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            RequestChecks.pageSize(request.getPageSize());
            return forward(CallerIdentity.owner(), ChatServiceGrpc.getListSessionsMethod(), request);
        });
    }

    private void requireReady() {
        if (!ready.getAsBoolean()) {
            throw Status.UNAVAILABLE.withDescription("router " + env.routerId()
                    + " is not connected to the cluster yet (or is stopping); retry shortly").asRuntimeException();
        }
    }

    /** Sends a unary call to serving workers in {@code key}'s hash order until one answers other than UNAVAILABLE. */
    private <Q, R> R forward(String key, MethodDescriptor<Q, R> method, Q request) {
        List<String> serving = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (WorkerView v : directory.views()) {
            if (!v.serving()) {
                skipped.put(v.id(), "not serving (gRPC health)");
            } else if (v.breakerOpen()) {
                skipped.put(v.id(), "breaker open");
            } else {
                serving.add(v.id());
            }
        }
        if (serving.isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("no worker is serving: " + directory.size() + " registered"
                    + (skipped.isEmpty() ? "" : ": " + describe(skipped))).asRuntimeException();
        }
        Map<String, String> failed = new LinkedHashMap<>();
        for (String id : RendezvousHash.rank(key, serving)) {
            if (failed.size() >= env.config().maxAttempts()) {
                break;
            }
            WorkerHandle h = directory.get(id);
            if (h == null) {
                continue;
            }
            switch (h.tryAcquireCall()) {
                case Admission.Refusal r -> failed.put(id, "UNAVAILABLE: " + r.reason());
                case Permit p -> {
                    try {
                        return call(p, method, request);
                    } catch (StatusRuntimeException e) {
                        if (!retryable(e)) {
                            throw e;
                        }
                        failed.put(id, describe(e));
                    }
                }
            }
        }
        throw Status.UNAVAILABLE.withDescription("all " + failed.size() + " workers tried failed: "
                + describe(failed)).asRuntimeException();
    }

    /**
     * One unary call to one worker under {@code permit} (which it ends with exactly one outcome), with the client's
     * deadline or the router's default.
     */
    private <Q, R> R call(Permit permit, MethodDescriptor<Q, R> method, Q request) {
        Channel channel = ClientInterceptors.intercept(permit.worker().channel(),
                MetadataUtils.newAttachHeadersInterceptor(CallerIdentity.forwardHeaders(env.credential().get())));
        CallOptions options = CallOptions.DEFAULT;
        if (Context.current().getDeadline() == null) {
            options = options.withDeadlineAfter(env.config().unaryTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        try {
            R r = ClientCalls.blockingUnaryCall(channel, method, options, request);
            permit.onSuccess();
            return r;
        } catch (RuntimeException e) {
            if (Context.current().isCancelled()) {
                permit.onCancelled();
            } else {
                permit.onFailed(Status.fromThrowable(e));
            }
            throw e;
        }
    }

    /**
     * A session call goes to another worker when this one is down, or full (RESOURCE_EXHAUSTED with the worker's
     * {@code x-warmroute-overloaded} trailer). Any other RESOURCE_EXHAUSTED is a limit of the caller's (sessions per
     * owner, in all) that every worker would answer alike: the client gets it as the worker said it.
     */
    private static boolean retryable(StatusRuntimeException e) {
        if (Context.current().isCancelled()) {
            return false;
        }
        if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            return e.getTrailers() != null && e.getTrailers().containsKey(CallMetadata.OVERLOADED);
        }
        return FailurePolicy.retryBeforeFirstToken(e.getStatus());
    }

    private static String describe(StatusRuntimeException e) {
        Status s = e.getStatus();
        return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
    }

    private static String describe(Map<String, String> failures) {
        StringBuilder sb = new StringBuilder();
        failures.forEach((w, why) -> sb.append(sb.isEmpty() ? "" : "; ").append(w).append(": ").append(why));
        return sb.toString();
    }
}

package dev.warmroute.testing;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.GetWorkerStatsRequest;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.api.v1.WorkerServiceGrpc;
import dev.warmroute.api.v1.WorkerStats;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * The test client of every module: ChatService, WorkerService and AdminService over real gRPC (Netty, plaintext) to a
 * worker or a router, recording every event and the trailers of a turn. A failed turn is a {@link Reply} whose status
 * says why, never an exception, so that tests assert on codes and messages. Every call has its own deadline (a stub
 * made once with a deadline would expire for all later calls).
 */
public final class ChatClient implements AutoCloseable {

    /** Deadline of a turn unless one is given. */
    public static final Duration TURN_DEADLINE = Duration.ofSeconds(120);
    /** Deadline of unary calls (create, get, delete, stats, status). */
    public static final Duration CALL_DEADLINE = Duration.ofSeconds(60);

    private final ManagedChannel channel;
    private final Channel calls;

    /** A client with no headers (the caller is anonymous) and gRPC's default flow-control window. */
    public ChatClient(String address) {
        this(address, new Metadata(), 0);
    }

    /** A client that sends {@code headers} on every call (identity, internal credential). */
    public ChatClient(String address, Metadata headers) {
        this(address, headers, 0);
    }

    /** A client that speaks TLS ({@code credentials}; e.g. {@code LocalCluster.clientCredentials()}). */
    public ChatClient(String address, Metadata headers, ChannelCredentials credentials) {
        this(address, headers, 0, credentials);
    }

    private ChatClient(String address, Metadata headers, int windowBytes) {
        this(address, headers, windowBytes, InsecureChannelCredentials.create());
    }

    private ChatClient(String address, Metadata headers, int windowBytes, ChannelCredentials credentials) {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(address, credentials);
        if (windowBytes > 0) {
            b.flowControlWindow(windowBytes);
        }
        this.channel = b.build();
        this.calls = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /**
     * A client with a tiny HTTP/2 window: with {@link #sendPaused}, a reader that is not keeping up, whose server
     * must hold back (flow control).
     */
    public static ChatClient withWindow(String address, int windowBytes) {
        return new ChatClient(address, new Metadata(), windowBytes);
    }

    /** {@link #withWindow(String, int)} sending {@code headers} on every call. */
    public static ChatClient withWindow(String address, Metadata headers, int windowBytes) {
        return new ChatClient(address, headers, windowBytes);
    }

    /** The channel, for stubs of other services (health) and raw calls. */
    public ManagedChannel channel() {
        return channel;
    }

    /** A ChatService stub with this client's headers and a fresh {@link #CALL_DEADLINE}. */
    public ChatServiceGrpc.ChatServiceBlockingStub blocking() {
        return ChatServiceGrpc.newBlockingStub(calls).withDeadlineAfter(CALL_DEADLINE.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** An AdminService stub (routers) with this client's headers and a fresh {@link #CALL_DEADLINE}. */
    public AdminServiceGrpc.AdminServiceBlockingStub admin() {
        return AdminServiceGrpc.newBlockingStub(calls).withDeadlineAfter(CALL_DEADLINE.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    // ---- requests ----

    /** Greedy sampling (temperature 0, seed 7): answers depend only on the messages. */
    public static SessionSettings greedy(int maxTokens) {
        return SessionSettings.newBuilder().setSampling(sampling(0, 7, maxTokens)).build();
    }

    public static SamplingParams sampling(float temperature, long seed, int maxTokens) {
        return SamplingParams.newBuilder().setTemperature(temperature).setSeed(seed).setMaxTokens(maxTokens).build();
    }

    /** A user message; an empty {@code requestId} lets the server generate one. */
    public static SendMessageRequest message(String sessionId, String requestId, String text) {
        return SendMessageRequest.newBuilder().setSessionId(sessionId).setRequestId(requestId)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text)).build();
    }

    // ---- unary calls ----

    public Session create(String sessionId, String systemPrompt, SessionSettings settings) {
        return blocking().createSession(CreateSessionRequest.newBuilder().setSessionId(sessionId)
                .setSystemPrompt(systemPrompt).setSettings(settings).build());
    }

    public Session create(String sessionId, SamplingParams sampling) {
        return create(sessionId, "", SessionSettings.newBuilder().setSampling(sampling).build());
    }

    /** The session with its messages. */
    public Session get(String sessionId) {
        return blocking().getSession(GetSessionRequest.newBuilder().setSessionId(sessionId).setIncludeMessages(true)
                .build());
    }

    public void delete(String sessionId) {
        blocking().deleteSession(DeleteSessionRequest.newBuilder().setSessionId(sessionId).build());
    }

    /** A worker's own stats (WorkerService). */
    public WorkerStats stats() {
        return WorkerServiceGrpc.newBlockingStub(calls).withDeadlineAfter(CALL_DEADLINE.toMillis(),
                TimeUnit.MILLISECONDS).getWorkerStats(GetWorkerStatsRequest.getDefaultInstance());
    }

    /** A router's view of the cluster (AdminService). */
    public ClusterStatus status() {
        return admin().getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    }

    // ---- turns ----

    /** Everything a SendMessage call produced: its events in order, how it ended, and its trailers. */
    public record Reply(List<SendMessageResponse> events, Status status, Metadata trailers) {

        public boolean ok() {
            return status.isOk();
        }

        /** The TurnStarted event (first), or null. */
        public TurnStarted started() {
            return events.isEmpty() || !events.getFirst().hasStarted() ? null : events.getFirst().getStarted();
        }

        public List<TokenDelta> deltas() {
            return events.stream().filter(SendMessageResponse::hasDelta).map(SendMessageResponse::getDelta).toList();
        }

        /** The TurnComplete event (last), or null. */
        public TurnComplete complete() {
            return events.isEmpty() || !events.getLast().hasComplete() ? null : events.getLast().getComplete();
        }

        public String streamedText() {
            return deltas().stream().map(TokenDelta::getText).collect(Collectors.joining());
        }

        public List<Integer> streamedIds() {
            return deltas().stream().flatMap(d -> d.getTokenIdsList().stream()).toList();
        }

        public String trailer(String key) {
            return trailers == null ? null : trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }

        /**
         * The client's view is one well-formed stream: it succeeded, TurnStarted once and first, contiguous deltas,
         * TurnComplete once and last, whose text is the streamed text.
         */
        public Reply assertContinuous() {
            if (!status.isOk()) {
                throw new AssertionError("turn failed: " + status);
            }
            long starts = events.stream().filter(SendMessageResponse::hasStarted).count();
            long completes = events.stream().filter(SendMessageResponse::hasComplete).count();
            if (starts != 1 || completes != 1 || started() == null || complete() == null) {
                throw new AssertionError("expected one TurnStarted first and one TurnComplete last: " + starts
                        + " started, " + completes + " complete");
            }
            int next = 0;
            for (TokenDelta d : deltas()) {
                if (d.getIndex() != next) {
                    throw new AssertionError("delta index " + d.getIndex() + ", expected " + next);
                }
                next += d.getTokenIdsCount();
            }
            if (!streamedText().equals(complete().getText())) {
                throw new AssertionError("streamed text differs from TurnComplete.text:\n" + streamedText() + "\n--\n"
                        + complete().getText());
            }
            return this;
        }

        @Override
        public String toString() {
            return ok() && complete() != null ? "Reply[" + complete().getCache().getStatus() + " " + complete().getUsage()
                    + "]" : "Reply[" + status + "]";
        }
    }

    /** Sends a turn and waits for its end ({@link #TURN_DEADLINE}). */
    public Reply send(SendMessageRequest request) {
        return send(request, TURN_DEADLINE, null);
    }

    public Reply send(SendMessageRequest request, Duration deadline) {
        return send(request, deadline, null);
    }

    /**
     * Sends a turn and waits for its end; {@code afterDelta}, when set, runs after each delta with the number of
     * deltas so far and an action that cancels the call (tests cancel mid-answer from it).
     */
    public Reply send(SendMessageRequest request, Duration deadline, BiConsumer<Integer, Runnable> afterDelta) {
        CompletableFuture<Reply> done = new CompletableFuture<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>(new Metadata());
        Channel capturing = ClientInterceptors.intercept(calls,
                MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers));
        List<SendMessageResponse> events = new CopyOnWriteArrayList<>();
        int[] deltas = {0};
        Context.CancellableContext cancellable = Context.current().withCancellation();
        cancellable.run(() -> ChatServiceGrpc.newStub(capturing)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .sendMessage(request, new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(SendMessageResponse r) {
                        events.add(r);
                        if (r.hasDelta() && afterDelta != null) {
                            afterDelta.accept(++deltas[0], () -> cancellable.cancel(null));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.complete(new Reply(List.copyOf(events), Status.fromThrowable(t), trailers.get()));
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(new Reply(List.copyOf(events), Status.OK, trailers.get()));
                    }
                }));
        try {
            return done.get(deadline.toMillis() + 30_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("turn did not end within its deadline " + deadline + " plus 30 s", e);
        } finally {
            cancellable.close();
        }
    }

    /** Sends a turn that must succeed; AssertionError with the status otherwise. */
    public Reply ok(SendMessageRequest request) {
        Reply t = send(request);
        if (!t.ok()) {
            throw new AssertionError("turn failed: " + t.status());
        }
        return t;
    }

    /**
     * Starts a turn whose reader takes the first {@code first} events, then reads nothing until
     * {@link Paused#resume()}: with {@link #withWindow} a client the server must wait for.
     */
    public Paused sendPaused(SendMessageRequest request, int first) {
        Paused p = new Paused();
        ChatServiceGrpc.newStub(calls).withDeadlineAfter(TURN_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .sendMessage(request, new ClientResponseObserver<SendMessageRequest, SendMessageResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<SendMessageRequest> c) {
                        p.call = c;
                        c.disableAutoRequestWithInitial(first);
                    }

                    @Override
                    public void onNext(SendMessageResponse r) {
                        p.events.add(r);
                        if (!p.paused) {
                            p.call.request(1);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        p.result.complete(new Reply(List.copyOf(p.events), Status.fromThrowable(t), new Metadata()));
                    }

                    @Override
                    public void onCompleted() {
                        p.result.complete(new Reply(List.copyOf(p.events), Status.OK, new Metadata()));
                    }
                });
        return p;
    }

    /** A turn started by {@link #sendPaused}: the events read so far, and its end. */
    public static final class Paused {
        private volatile ClientCallStreamObserver<SendMessageRequest> call;
        private volatile boolean paused = true;
        private final List<SendMessageResponse> events = new CopyOnWriteArrayList<>();
        private final CompletableFuture<Reply> result = new CompletableFuture<>();

        /** Events read so far (a live view). */
        public List<SendMessageResponse> events() {
            return events;
        }

        /** Reads the rest of the answer. */
        public void resume() {
            paused = false;
            call.request(1);
        }

        /** Completes with the whole turn once it ended. */
        public CompletableFuture<Reply> result() {
            return result;
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

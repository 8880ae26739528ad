package dev.warmroute.worker;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
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
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** A test client for one worker: real gRPC over Netty, collecting every event and the trailers of a turn. */
final class ChatClient implements AutoCloseable {

    final ManagedChannel channel;
    final io.grpc.Channel withHeaders;
    final ChatServiceGrpc.ChatServiceBlockingStub blocking;
    final ChatServiceGrpc.ChatServiceStub async;
    final WorkerServiceGrpc.WorkerServiceBlockingStub stats;

    ChatClient(String address) {
        this(address, new Metadata());
    }

    ChatClient(String address, Metadata headers) {
        channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        withHeaders = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        blocking = ChatServiceGrpc.newBlockingStub(withHeaders).withDeadlineAfter(120, TimeUnit.SECONDS);
        async = ChatServiceGrpc.newStub(withHeaders);
        stats = WorkerServiceGrpc.newBlockingStub(withHeaders);
    }

    Session create(String sessionId, String system, SessionSettings settings) {
        return ChatServiceGrpc.newBlockingStub(withHeaders).withDeadlineAfter(60, TimeUnit.SECONDS)
                .createSession(CreateSessionRequest.newBuilder().setSessionId(sessionId).setSystemPrompt(system)
                        .setSettings(settings).build());
    }

    WorkerStats stats() {
        return stats.withDeadlineAfter(10, TimeUnit.SECONDS).getWorkerStats(GetWorkerStatsRequest.getDefaultInstance());
    }

    static SessionSettings greedy(int maxTokens) {
        return SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder().setTemperature(0).setSeed(7)
                .setMaxTokens(maxTokens)).build();
    }

    static SendMessageRequest message(String sessionId, String requestId, String text) {
        return SendMessageRequest.newBuilder().setSessionId(sessionId).setRequestId(requestId)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text)).build();
    }

    /** Everything a SendMessage call produced. */
    record Turn(TurnStarted started, List<TokenDelta> deltas, TurnComplete complete, Status status, Metadata trailers) {
        boolean ok() {
            return status.isOk();
        }

        String streamedText() {
            return deltas.stream().map(TokenDelta::getText).collect(Collectors.joining());
        }

        List<Integer> streamedIds() {
            return deltas.stream().flatMap(d -> d.getTokenIdsList().stream()).toList();
        }

        String trailer(String key) {
            return trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }

        @Override
        public String toString() {
            return ok() ? "Turn[" + complete.getCache().getStatus() + " " + complete.getUsage() + "]"
                    : "Turn[" + status + "]";
        }
    }

    /** Sends a turn and waits for its end. */
    Turn send(SendMessageRequest request) {
        return send(request, 120_000, null);
    }

    /**
     * Sends a turn; {@code afterDeltas}, when set, runs after each delta (tests cancel from it).
     */
    Turn send(SendMessageRequest request, long deadlineMs, java.util.function.BiConsumer<Integer, Runnable> afterDeltas) {
        CompletableFuture<Turn> done = new CompletableFuture<>();
        Metadata[] trailers = {new Metadata()};
        var capturing = ClientInterceptors.intercept(withHeaders, new io.grpc.ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
                    io.grpc.CallOptions options, io.grpc.Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                            @Override
                            public void onClose(Status status, Metadata t) {
                                trailers[0] = t;
                                super.onClose(status, t);
                            }
                        }, headers);
                    }
                };
            }
        });
        List<TokenDelta> deltas = new ArrayList<>();
        TurnStarted[] started = {null};
        TurnComplete[] complete = {null};
        var cancellable = io.grpc.Context.current().withCancellation();
        cancellable.run(() -> ChatServiceGrpc.newStub(capturing).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                .sendMessage(request, new StreamObserver<>() {
                    @Override
                    public void onNext(SendMessageResponse r) {
                        switch (r.getEventCase()) {
                            case STARTED -> started[0] = r.getStarted();
                            case DELTA -> {
                                deltas.add(r.getDelta());
                                if (afterDeltas != null) {
                                    afterDeltas.accept(deltas.size(), () -> cancellable.cancel(null));
                                }
                            }
                            case COMPLETE -> complete[0] = r.getComplete();
                            default -> { }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.complete(new Turn(started[0], deltas, complete[0], Status.fromThrowable(t), trailers[0]));
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(new Turn(started[0], deltas, complete[0], Status.OK, trailers[0]));
                    }
                }));
        try {
            return done.get(deadlineMs + 30_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("turn did not end", e);
        }
    }

    /** Sends a turn that must succeed. */
    Turn ok(SendMessageRequest request) {
        Turn t = send(request);
        if (!t.ok()) {
            throw new AssertionError("turn failed: " + t.status());
        }
        return t;
    }

    static StatusRuntimeException error(Turn t) {
        return t.status().asRuntimeException();
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}

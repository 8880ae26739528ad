package dev.warmroute.router;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A test client of ChatService and AdminService (a router or a worker), recording whole streams. */
final class RouterClient implements AutoCloseable {

    /** One SendMessage call as the client saw it. */
    record Turn(List<SendMessageResponse> events, Status status, Metadata trailers) {
        TurnStarted started() {
            return events.isEmpty() || !events.get(0).hasStarted() ? null : events.get(0).getStarted();
        }

        List<TokenDelta> deltas() {
            return events.stream().filter(SendMessageResponse::hasDelta).map(SendMessageResponse::getDelta).toList();
        }

        TurnComplete complete() {
            return events.isEmpty() || !events.get(events.size() - 1).hasComplete() ? null
                    : events.get(events.size() - 1).getComplete();
        }

        String streamedText() {
            StringBuilder sb = new StringBuilder();
            deltas().forEach(d -> sb.append(d.getText()));
            return sb.toString();
        }

        String trailer(String key) {
            return trailers == null ? null : trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }

        /** The client's view is one well-formed stream: TurnStarted once, contiguous deltas, TurnComplete last. */
        void assertContinuous() {
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
        }
    }

    final ManagedChannel channel;
    final ChatServiceGrpc.ChatServiceBlockingStub chat;
    final AdminServiceGrpc.AdminServiceBlockingStub admin;

    RouterClient(String address) {
        this(address, 0);
    }

    /** @param window the HTTP/2 window of the client (0 = gRPC's default); a tiny one makes a slow reader */
    RouterClient(String address, int window) {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(address).usePlaintext();
        if (window > 0) {
            b.flowControlWindow(window);
        }
        this.channel = b.build();
        this.chat = ChatServiceGrpc.newBlockingStub(channel);
        this.admin = AdminServiceGrpc.newBlockingStub(channel);
    }

    static SamplingParams sampling(float temperature, long seed, int maxTokens) {
        return SamplingParams.newBuilder().setTemperature(temperature).setSeed(seed).setMaxTokens(maxTokens).build();
    }

    Session create(String sessionId, SamplingParams sampling) {
        return chat.withDeadlineAfter(30, TimeUnit.SECONDS).createSession(CreateSessionRequest.newBuilder()
                .setSessionId(sessionId).setSettings(SessionSettings.newBuilder().setSampling(sampling)).build());
    }

    void delete(String sessionId) {
        chat.withDeadlineAfter(30, TimeUnit.SECONDS).deleteSession(DeleteSessionRequest.newBuilder()
                .setSessionId(sessionId).build());
    }

    Session get(String sessionId) {
        return chat.withDeadlineAfter(30, TimeUnit.SECONDS).getSession(GetSessionRequest.newBuilder()
                .setSessionId(sessionId).setIncludeMessages(true).build());
    }

    ClusterStatus status() {
        return admin.withDeadlineAfter(30, TimeUnit.SECONDS).getClusterStatus(GetClusterStatusRequest.newBuilder()
                .build());
    }

    static SendMessageRequest message(String sessionId, String requestId, String text) {
        return SendMessageRequest.newBuilder().setSessionId(sessionId).setRequestId(requestId)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text)).build();
    }

    /** Runs a turn to its end; never throws for a failed turn (the status says). */
    Turn send(SendMessageRequest request, long deadlineSeconds) {
        List<SendMessageResponse> events = new ArrayList<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        try {
            chat.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS)
                    .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
                    .sendMessage(request).forEachRemaining(events::add);
            return new Turn(events, Status.OK, trailers.get());
        } catch (StatusRuntimeException e) {
            return new Turn(events, e.getStatus(), trailers.get());
        }
    }

    Turn send(SendMessageRequest request) {
        return send(request, 60);
    }

    /** A turn whose reader takes {@code first} events, then stops reading until {@link Paused#resume()}. */
    Paused sendPaused(SendMessageRequest request, int first) {
        Paused p = new Paused();
        List<SendMessageResponse> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        p.events = events;
        ChatServiceGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).sendMessage(request,
                new ClientResponseObserver<SendMessageRequest, SendMessageResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<SendMessageRequest> c) {
                        p.call = c;
                        c.disableAutoRequestWithInitial(first);
                    }

                    @Override
                    public void onNext(SendMessageResponse r) {
                        events.add(r);
                        if (!p.paused) {
                            p.call.request(1);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        p.result.complete(new Turn(events, Status.fromThrowable(t), new Metadata()));
                    }

                    @Override
                    public void onCompleted() {
                        p.result.complete(new Turn(events, Status.OK, new Metadata()));
                    }
                });
        return p;
    }

    static final class Paused {
        volatile ClientCallStreamObserver<SendMessageRequest> call;
        volatile boolean paused = true;
        volatile List<SendMessageResponse> events;
        final CompletableFuture<Turn> result = new CompletableFuture<>();

        void resume() {
            paused = false;
            call.request(1);
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}

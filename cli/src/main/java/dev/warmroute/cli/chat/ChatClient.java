package dev.warmroute.cli.chat;

import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.auth.BearerToken;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Iterator;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A client of ChatService (a router or a worker: both serve it). Used by {@code warmroute chat}, and meant for the
 * interactive chat and the benchmarks too: one channel, the caller's identity, a deadline per call.
 */
public final class ChatClient implements AutoCloseable {

    private final ManagedChannel channel;
    private final io.grpc.Channel calls;

    /**
     * @param target host:port of a router or a worker
     * @param owner  the caller's identity (x-warmroute-owner), or null for "anonymous"; not sent when
     *               {@code $WARMROUTE_TOKEN} is set: then the token says who the caller is
     */
    public ChatClient(String target, String owner) {
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        Metadata headers = BearerToken.fromEnv();
        if (owner != null && !owner.isBlank() && headers.keys().isEmpty()) {
            headers.put(CallMetadata.OWNER, owner);
        }
        this.calls = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Creates the session, or returns it unchanged when it already exists (allow_existing). */
    public Session ensureSession(String sessionId, String systemPrompt, SessionSettings settings, Duration deadline) {
        return ChatServiceGrpc.newBlockingStub(calls).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .createSession(CreateSessionRequest.newBuilder().setSessionId(sessionId)
                        .setSystemPrompt(systemPrompt == null ? "" : systemPrompt).setSettings(settings)
                        .setAllowExisting(true).build());
    }

    /** Tokens of the prompt the session's next turn starts from (GetSession's window_tokens). */
    public int windowTokens(String sessionId, Duration deadline) {
        return ChatServiceGrpc.newBlockingStub(calls).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .getSession(dev.warmroute.api.v1.GetSessionRequest.newBuilder().setSessionId(sessionId).build())
                .getWindowTokens();
    }

    /** The session with its messages (include_messages) or without. */
    public Session session(String sessionId, boolean includeMessages, Duration deadline) {
        return ChatServiceGrpc.newBlockingStub(calls).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .getSession(dev.warmroute.api.v1.GetSessionRequest.newBuilder().setSessionId(sessionId)
                        .setIncludeMessages(includeMessages).build());
    }

    /** What a turn produced. */
    public record TurnResult(TurnStarted started, TurnComplete complete, Metadata trailers, double firstDeltaMs) {
        public String trailer(String key) {
            return trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
    }

    /** A user message with per-turn sampling overrides (unset fields keep the session's settings). */
    public static SendMessageRequest message(String sessionId, String requestId, String text, SamplingParams sampling) {
        return SendMessageRequest.newBuilder().setSessionId(sessionId)
                .setRequestId(requestId == null || requestId.isEmpty() ? "r-" + UUID.randomUUID() : requestId)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text))
                .setSampling(sampling).build();
    }

    /**
     * Sends a turn and blocks until it ends, handing each delta to {@code onDelta} as it arrives. Throws the call's
     * StatusRuntimeException when the turn fails.
     */
    public TurnResult send(SendMessageRequest request, Consumer<TokenDelta> onDelta, Duration deadline) {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>(new Metadata());
        var capturing = ClientInterceptors.intercept(calls,
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        long start = System.nanoTime();
        double firstDelta = -1;
        TurnStarted started = null;
        TurnComplete complete = null;
        Iterator<SendMessageResponse> events = ChatServiceGrpc.newBlockingStub(capturing)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS).sendMessage(request);
        while (events.hasNext()) {
            SendMessageResponse e = events.next();
            switch (e.getEventCase()) {
                case STARTED -> started = e.getStarted();
                case DELTA -> {
                    if (firstDelta < 0) {
                        firstDelta = (System.nanoTime() - start) / 1e6;
                    }
                    onDelta.accept(e.getDelta());
                }
                case COMPLETE -> complete = e.getComplete();
                default -> { }
            }
        }
        return new TurnResult(started, complete, trailers.get() == null ? new Metadata() : trailers.get(),
                firstDelta);
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

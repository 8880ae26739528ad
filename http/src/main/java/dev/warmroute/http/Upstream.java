package dev.warmroute.http;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.DeleteSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.CallMetadata;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * The ChatService the front translates to, over a gRPC channel (loopback to the router or worker this front sits
 * beside). Every call carries a deadline and the caller's headers: {@code x-warmroute-owner} (the identity until
 * authentication exists) and {@code authorization} (bearer tokens, for when the gRPC side checks them), so the front
 * adds no rules of its own about who may do what.
 */
final class Upstream {

    /** The caller's identity headers as HTTP gave them (null when absent). */
    record Caller(String owner, String authorization) {

        /** The caller's headers, checked: a value gRPC metadata cannot carry is a 400 naming the header. */
        static Caller of(String owner, String authorization) {
            if (owner != null && !ApiLimits.OWNER.matcher(owner).matches()) {
                throw OpenAiError.invalid("x-warmroute-owner", "header must be " + ApiLimits.OWNER_RULE + ", got '"
                        + CompletionRequestParser.abbreviate(owner) + "'");
            }
            if (authorization != null && (authorization.length() > 8192
                    || !authorization.chars().allMatch(c -> c >= 0x20 && c < 0x7f))) {
                throw OpenAiError.invalid("Authorization", "header must be at most 8192 printable ASCII characters");
            }
            return new Caller(owner, authorization);
        }

        Metadata metadata() {
            Metadata m = new Metadata();
            if (owner != null) {
                m.put(CallMetadata.OWNER, owner);
            }
            if (authorization != null) {
                m.put(AUTHORIZATION, authorization);
            }
            return m;
        }
    }

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);

    private final Channel channel;
    private final Duration unaryTimeout;
    private final Duration turnTimeout;

    Upstream(Channel channel, Duration unaryTimeout, Duration turnTimeout) {
        this.channel = channel;
        this.unaryTimeout = unaryTimeout;
        this.turnTimeout = turnTimeout;
    }

    private ChatServiceGrpc.ChatServiceBlockingStub chat(Caller caller, Duration timeout) {
        Channel c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(caller.metadata()));
        return ChatServiceGrpc.newBlockingStub(c).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Session getSession(Caller caller, String sessionId, boolean withMessages) {
        return chat(caller, unaryTimeout).getSession(GetSessionRequest.newBuilder().setSessionId(sessionId)
                .setIncludeMessages(withMessages).build());
    }

    Session createSession(Caller caller, CreateSessionRequest request) {
        return chat(caller, unaryTimeout).createSession(request);
    }

    void deleteSession(Caller caller, String sessionId) {
        chat(caller, unaryTimeout).deleteSession(DeleteSessionRequest.newBuilder().setSessionId(sessionId)
                .setAllowMissing(true).build());
    }

    /**
     * Starts a turn. The events arrive through a blocking iterator that asks gRPC for one message at a time, so a
     * client that reads slowly holds the turn back through HTTP/2 flow control instead of filling a buffer here.
     * The call runs in {@code context}: cancelling it cancels the turn (nothing is committed).
     */
    Iterator<SendMessageResponse> sendMessage(Caller caller, SendMessageRequest request,
            Context.CancellableContext context) {
        Context previous = context.attach();
        try {
            return chat(caller, turnTimeout).sendMessage(request);
        } finally {
            context.detach(previous);
        }
    }

    /** The standard health check of ChatService on the server behind the front. */
    HealthCheckResponse.ServingStatus health() {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(ChatServiceGrpc.SERVICE_NAME).build()).getStatus();
    }

    Channel channel() {
        return channel;
    }

    Duration unaryTimeout() {
        return unaryTimeout;
    }
}

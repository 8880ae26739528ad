package dev.warmroute.router;

import dev.warmroute.cluster.CallMetadata;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The request headers of the current call, for handlers that run on any thread: the caller's identity
 * ({@code x-warmroute-owner}) is forwarded to the worker unchanged; nothing else is, and in particular never an
 * {@code x-warmroute-internal} credential a client might send (only the router adds it, and only to resume a
 * stream). Response trailers are {@link CallMetadata}'s.
 */
final class CallerHeaders {

    private static final Context.Key<Metadata> HEADERS = Context.key("warmroute-request-headers");

    private CallerHeaders() {}

    /** Headers to send to the worker on behalf of the current call. */
    static Metadata forwardHeaders() {
        Metadata out = new Metadata();
        Metadata in = HEADERS.get();
        if (in != null) {
            String owner = in.get(CallMetadata.OWNER);
            if (owner != null) {
                out.put(CallMetadata.OWNER, owner);
            }
        }
        return out;
    }

    /** The owner named by the current call, "anonymous" when none (chat.proto, "Identity"). */
    static String owner() {
        Metadata in = HEADERS.get();
        String owner = in == null ? null : in.get(CallMetadata.OWNER);
        return owner == null ? "anonymous" : owner;
    }

    static ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                return Contexts.interceptCall(Context.current().withValue(HEADERS, headers), call, headers, next);
            }
        };
    }
}

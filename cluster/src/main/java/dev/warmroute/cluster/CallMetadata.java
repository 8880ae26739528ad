package dev.warmroute.cluster;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * warmroute's gRPC metadata (chat.proto, "Identity" and "Response metadata"): the caller's identity in, what served
 * the turn out, and the way a handler on any thread adds response trailers. A server-streaming handler has no way
 * to set trailers on success, so {@link #trailersInterceptor()} puts an empty {@link Metadata} in the call's context
 * and merges it into the trailers at close. Workers set the trailers, routers pass them on and add their own; both
 * use these keys.
 */
public final class CallMetadata {

    /** Request: the caller's identity ("anonymous" when absent). */
    public static final Metadata.Key<String> OWNER = Metadata.Key.of("x-warmroute-owner",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Response: the worker that computed the turn. */
    public static final Metadata.Key<String> WORKER = Metadata.Key.of("x-warmroute-worker",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Response: the turn's cache outcome ({@code warm}, {@code cold:evicted}, ...). */
    public static final Metadata.Key<String> CACHE = Metadata.Key.of("x-warmroute-cache",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Response (routers): why the turn did not run on its preferred worker. */
    public static final Metadata.Key<String> FALLBACK = Metadata.Key.of("x-warmroute-fallback",
            Metadata.ASCII_STRING_MARSHALLER);

    /** Request (routers to workers): the router's id, so the worker can report its load per router. */
    public static final Metadata.Key<String> ROUTER = Metadata.Key.of("x-warmroute-router",
            Metadata.ASCII_STRING_MARSHALLER);
    /**
     * Response (workers): set on a RESOURCE_EXHAUSTED that means "full" (its compute queue is full), not "this turn
     * does not fit" (a full context): the router may try another worker and answers with {@link #RETRY_AFTER}.
     */
    public static final Metadata.Key<String> OVERLOADED = Metadata.Key.of("x-warmroute-overloaded",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Response (routers): with RESOURCE_EXHAUSTED for load, the seconds after which a retry may find room. */
    public static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after",
            Metadata.ASCII_STRING_MARSHALLER);

    private static final Context.Key<Metadata> TRAILERS = Context.key("warmroute-response-trailers");

    private CallMetadata() {}

    /** Trailers added to the current call's final status (capture it on the handler's thread). */
    public static Metadata trailers() {
        Metadata m = TRAILERS.get();
        return m == null ? new Metadata() : m;
    }

    /** Gives every call the trailers of {@link #trailers()}, merged into its real trailers when it closes. */
    public static ServerInterceptor trailersInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                Metadata extra = new Metadata();
                ServerCall<Q, R> wrapped = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        synchronized (extra) {
                            trailers.merge(extra);
                        }
                        super.close(status, trailers);
                    }
                };
                return Contexts.interceptCall(Context.current().withValue(TRAILERS, extra), wrapped, headers, next);
            }
        };
    }

    /** Sets a trailer (replacing an earlier value); {@code trailers} may be written from several threads. */
    public static void setTrailer(Metadata trailers, Metadata.Key<String> key, String value) {
        synchronized (trailers) {
            trailers.removeAll(key);
            trailers.put(key, ascii(value));
        }
    }

    /** Metadata values must be printable ASCII; worker ids and reasons normally are. */
    public static String ascii(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 512));
        for (int i = 0; i < s.length() && sb.length() < 512; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}

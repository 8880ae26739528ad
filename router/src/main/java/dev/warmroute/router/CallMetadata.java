package dev.warmroute.router;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Request headers in, response trailers out, for handlers that run on any thread.
 *
 * <p>In: the caller's identity ({@code x-warmroute-owner}) is forwarded to the worker unchanged; nothing else is,
 * and in particular never an {@code x-warmroute-internal} credential a client might send (only the router adds
 * it, and only to resume a stream). Out: a server-streaming handler has no way to set trailers on success, so the
 * interceptor puts an empty {@link Metadata} in the call's context and merges it into the trailers at close.
 */
public final class CallMetadata {

    public static final Metadata.Key<String> OWNER = Metadata.Key.of("x-warmroute-owner",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> WORKER = Metadata.Key.of("x-warmroute-worker",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> CACHE = Metadata.Key.of("x-warmroute-cache",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> FALLBACK = Metadata.Key.of("x-warmroute-fallback",
            Metadata.ASCII_STRING_MARSHALLER);

    private static final Context.Key<Metadata> HEADERS = Context.key("warmroute-request-headers");
    private static final Context.Key<Metadata> TRAILERS = Context.key("warmroute-response-trailers");

    private CallMetadata() {}

    /** Headers to send to the worker on behalf of the current call. */
    public static Metadata forwardHeaders() {
        Metadata out = new Metadata();
        Metadata in = HEADERS.get();
        if (in != null) {
            String owner = in.get(OWNER);
            if (owner != null) {
                out.put(OWNER, owner);
            }
        }
        return out;
    }

    /** The owner named by the current call, "anonymous" when none (chat.proto, "Identity"). */
    public static String owner() {
        Metadata in = HEADERS.get();
        String owner = in == null ? null : in.get(OWNER);
        return owner == null ? "anonymous" : owner;
    }

    /** Trailers added to the current call's final status (captured on the handler's thread). */
    public static Metadata trailers() {
        Metadata m = TRAILERS.get();
        return m == null ? new Metadata() : m;
    }

    public static ServerInterceptor interceptor() {
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
                Context ctx = Context.current().withValue(HEADERS, headers).withValue(TRAILERS, extra);
                return Contexts.interceptCall(ctx, wrapped, headers, next);
            }
        };
    }

    /** Sets a trailer of the current call (replacing an earlier value). */
    static void setTrailer(Metadata trailers, Metadata.Key<String> key, String value) {
        synchronized (trailers) {
            trailers.removeAll(key);
            trailers.put(key, ascii(value));
        }
    }

    /** Metadata values must be printable ASCII; worker ids and reasons normally are. */
    static String ascii(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 512));
        for (int i = 0; i < s.length() && sb.length() < 512; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}

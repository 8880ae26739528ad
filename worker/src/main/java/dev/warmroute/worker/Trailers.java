package dev.warmroute.worker;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Lets a handler add response trailers from any thread: the interceptor puts an empty {@link Metadata} in the call's
 * context and merges it into the trailers when the call closes. (A server-streaming handler has no other way to set
 * trailers on success.)
 */
final class Trailers {

    static final Metadata.Key<String> WORKER = Metadata.Key.of("x-warmroute-worker", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> CACHE = Metadata.Key.of("x-warmroute-cache", Metadata.ASCII_STRING_MARSHALLER);

    private static final Context.Key<Metadata> KEY = Context.key("warmroute-trailers");

    private Trailers() {}

    /** The trailers of the current call (captured on the handler's thread). */
    static Metadata current() {
        Metadata m = KEY.get();
        return m == null ? new Metadata() : m;
    }

    static ServerInterceptor interceptor() {
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
                return Contexts.interceptCall(Context.current().withValue(KEY, extra), wrapped, headers, next);
            }
        };
    }
}

package dev.warmroute.cluster;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Who is calling, until authentication exists: request metadata {@code x-warmroute-owner}, "anonymous" when absent
 * (chat.proto, "Identity"), read the same way by workers and routers. {@link #interceptor()} checks the value
 * (INVALID_ARGUMENT before any handler runs) and keeps it, with the request headers, in the call's gRPC context, so
 * a handler on any thread of the call can read them.
 *
 * <p>A router forwards the identity to the worker ({@link #forwardHeaders()}) and nothing else of the caller's
 * headers: in particular never an {@code x-warmroute-internal} credential a client might send (only the router adds
 * it, and only to resume a stream). Response trailers are {@link CallMetadata}'s.
 */
public final class CallerIdentity {

    public static final String ANONYMOUS = "anonymous";

    private static final Context.Key<String> OWNER = Context.key("warmroute-owner");
    private static final Context.Key<Metadata> HEADERS = Context.key("warmroute-request-headers");

    private CallerIdentity() {}

    /** The owner of the current call, "anonymous" when it names none. */
    public static String owner() {
        String owner = OWNER.get();
        return owner == null ? ANONYMOUS : owner;
    }

    /** A request header of the current call (null when absent), e.g. the internal credential of a router's call. */
    public static String header(Metadata.Key<String> key) {
        Metadata headers = HEADERS.get();
        return headers == null ? null : headers.get(key);
    }

    /** Headers to send to a worker on behalf of the current call: its identity, and nothing else of the caller's. */
    public static Metadata forwardHeaders() {
        Metadata out = new Metadata();
        String owner = header(CallMetadata.OWNER);
        if (owner != null) {
            out.put(CallMetadata.OWNER, owner);
        }
        return out;
    }

    /** Checks and keeps the caller's identity for the call; a malformed owner fails it with INVALID_ARGUMENT. */
    public static ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String owner = headers.get(CallMetadata.OWNER);
                if (owner == null) {
                    owner = ANONYMOUS;
                } else if (!ApiLimits.OWNER.matcher(owner).matches()) {
                    call.close(Status.INVALID_ARGUMENT.withDescription(CallMetadata.OWNER.name() + ": must be "
                            + ApiLimits.OWNER_RULE + ", got '" + RequestChecks.abbreviate(owner) + "'"),
                            new Metadata());
                    return new ServerCall.Listener<>() {};
                }
                Context ctx = Context.current().withValue(OWNER, owner).withValue(HEADERS, headers);
                return Contexts.interceptCall(ctx, call, headers, next);
            }
        };
    }
}

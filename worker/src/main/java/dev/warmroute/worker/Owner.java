package dev.warmroute.worker;

import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.CallMetadata;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The caller's identity until authentication exists: request metadata {@code x-warmroute-owner}, "anonymous" when
 * absent (chat.proto, "Identity"). A malformed value fails the call with INVALID_ARGUMENT before any handler runs.
 */
public final class Owner {

    public static final String ANONYMOUS = "anonymous";

    static final Context.Key<String> CONTEXT_KEY = Context.key("warmroute-owner");
    /** Also captured here so handlers can see whether the internal credential was presented. */
    static final Context.Key<Metadata> HEADERS = Context.key("warmroute-headers");

    private Owner() {}

    /** The owner of the current call (set by {@link #interceptor()}). */
    public static String current() {
        String owner = CONTEXT_KEY.get();
        return owner == null ? ANONYMOUS : owner;
    }

    public static ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String owner = headers.get(CallMetadata.OWNER);
                if (owner == null) {
                    owner = ANONYMOUS;
                } else if (!ApiLimits.OWNER.matcher(owner).matches()) {
                    call.close(Status.INVALID_ARGUMENT.withDescription("x-warmroute-owner: must be "
                            + ApiLimits.OWNER_RULE + ", got '" + abbreviate(owner) + "'"), new Metadata());
                    return new ServerCall.Listener<>() {};
                }
                Context ctx = Context.current().withValue(CONTEXT_KEY, owner).withValue(HEADERS, headers);
                return Contexts.interceptCall(ctx, call, headers, next);
            }
        };
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}

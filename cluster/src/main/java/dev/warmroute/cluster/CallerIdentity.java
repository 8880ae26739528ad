package dev.warmroute.cluster;

import dev.warmroute.cluster.auth.Authenticator;
import dev.warmroute.cluster.auth.LocalCredential;
import dev.warmroute.cluster.auth.Principal;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Who is calling, read the same way by workers and routers, and kept (with the request headers) in the call's gRPC
 * context so a handler on any thread of the call can read it.
 *
 * <p>Two modes. <b>Open</b> ({@link #interceptor()}, no authenticator: a laptop's cluster): the caller names itself
 * with {@code x-warmroute-owner}, "anonymous" when absent (chat.proto, "Identity"). <b>Authenticated</b>
 * ({@link #interceptor(Authenticator, InternalCredential)}): a client call needs {@code authorization: Bearer
 * TOKEN}, and the token's principal is the owner; an {@code x-warmroute-owner} naming anyone else is refused. A call
 * from inside the cluster (a router forwarding a client's call: it carries the cluster's internal credential) is
 * trusted to name the owner the router authenticated. A worker serves clients directly only with a valid token.
 *
 * <p>A router forwards the identity to the worker ({@link #forwardHeaders(InternalCredential)}) and nothing else of
 * the caller's headers: never a client's {@code authorization} or {@code x-warmroute-internal}; the router adds its
 * own credential. Response trailers are {@link CallMetadata}'s.
 */
public final class CallerIdentity {

    public static final String ANONYMOUS = "anonymous";

    /** Request metadata key of bearer tokens (RFC 6750). */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private static final Context.Key<String> OWNER = Context.key("warmroute-owner");
    private static final Context.Key<Boolean> ADMIN = Context.key("warmroute-admin");
    private static final Context.Key<Metadata> HEADERS = Context.key("warmroute-request-headers");

    private CallerIdentity() {}

    /** The owner of the current call, "anonymous" when it names none. */
    public static String owner() {
        String owner = OWNER.get();
        return owner == null ? ANONYMOUS : owner;
    }

    /** True when the current call's principal may call AdminService (an authenticated admin). */
    public static boolean isAdmin() {
        return Boolean.TRUE.equals(ADMIN.get());
    }

    /** A request header of the current call (null when absent), e.g. the internal credential of a router's call. */
    public static String header(Metadata.Key<String> key) {
        Metadata headers = HEADERS.get();
        return headers == null ? null : headers.get(key);
    }

    /** Headers to send to a worker on behalf of the current call: its identity, and nothing else of the caller's. */
    public static Metadata forwardHeaders() {
        Metadata out = new Metadata();
        String owner = OWNER.get();
        if (owner != null) {
            out.put(CallMetadata.OWNER, owner);
        }
        return out;
    }

    /** {@link #forwardHeaders()} and the cluster's internal credential (when known), which marks a router's call. */
    public static Metadata forwardHeaders(InternalCredential credential) {
        Metadata out = forwardHeaders();
        if (credential != null) {
            out.put(InternalCredential.METADATA_KEY, credential.token());
        }
        return out;
    }

    /** Open mode: checks and keeps the caller's self-named identity; a malformed owner is INVALID_ARGUMENT. */
    public static ServerInterceptor interceptor() {
        return interceptor(null, null);
    }

    /**
     * With {@code auth} null, open mode; otherwise every call is authenticated (see the class comment), refused
     * with UNAUTHENTICATED (no, malformed, unknown or expired token) or PERMISSION_DENIED (a token naming one
     * principal and a header naming another) before any handler runs.
     */
    public static ServerInterceptor interceptor(Authenticator auth, InternalCredential internal) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String named = headers.get(CallMetadata.OWNER);
                Context ctx;
                try {
                    if (named != null && !ApiLimits.OWNER.matcher(named).matches()) {
                        throw Status.INVALID_ARGUMENT.withDescription(CallMetadata.OWNER.name() + ": must be "
                                + ApiLimits.OWNER_RULE + ", got '" + RequestChecks.abbreviate(named) + "'")
                                .asRuntimeException();
                    }
                    ctx = Context.current().withValue(HEADERS, headers);
                    if (auth == null || (internal != null
                            && internal.matches(headers.get(InternalCredential.METADATA_KEY)))) {
                        ctx = named == null ? ctx : ctx.withValue(OWNER, named);
                    } else if (LocalCredential.matches(headers.get(LocalCredential.METADATA_KEY))) {
                        // This process's own HTTP front, over loopback (its model lookups).
                        ctx = ctx.withValue(OWNER, LocalCredential.PRINCIPAL).withValue(ADMIN, true);
                    } else {
                        Principal p = auth.authenticate(bearer(headers));
                        if (named != null && !named.equals(p.name())) {
                            throw Status.PERMISSION_DENIED.withDescription(CallMetadata.OWNER.name() + ": names '"
                                    + named + "' but the token is " + p.name() + "'s; leave the header out (the"
                                    + " token says who you are)").asRuntimeException();
                        }
                        ctx = ctx.withValue(OWNER, p.name()).withValue(ADMIN, p.admin());
                    }
                } catch (StatusRuntimeException e) {
                    call.close(e.getStatus(), new Metadata());
                    return new ServerCall.Listener<>() {};
                }
                return Contexts.interceptCall(ctx, call, headers, next);
            }
        };
    }

    /**
     * For AdminService when authentication is on: the principal must be an admin (PERMISSION_DENIED otherwise).
     * Open mode lets every caller in, as the start-up log says.
     */
    public static ServerInterceptor adminOnly(boolean authEnabled) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                if (authEnabled && !isAdmin()) {
                    call.close(Status.PERMISSION_DENIED.withDescription(call.getMethodDescriptor().getFullMethodName()
                            + ": needs an admin principal; '" + owner() + "' is not one (an admin token has 'admin'"
                            + " in the token file, or \"warmroute_admin\": true in a JWT)"), new Metadata());
                    return new ServerCall.Listener<>() {};
                }
                return next.startCall(call, headers);
            }
        };
    }

    private static String bearer(Metadata headers) {
        String value = headers.get(AUTHORIZATION);
        if (value == null) {
            throw Authenticator.refused("missing; this server needs 'authorization: Bearer TOKEN' (warmroute auth"
                    + " token issues tokens; the CLI sends $WARMROUTE_TOKEN)");
        }
        if (value.length() < 8 || !value.regionMatches(true, 0, "Bearer ", 0, 7) || value.substring(7).isBlank()) {
            throw Authenticator.refused("must be 'Bearer TOKEN', got '" + RequestChecks.abbreviate(
                    value.length() > 7 ? value.substring(0, 7) + "..." : value) + "'");
        }
        return value.substring(7).strip();
    }
}

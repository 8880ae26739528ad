package dev.warmroute.cluster.auth;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Turns a bearer token into a {@link Principal}, or refuses it with UNAUTHENTICATED saying why. */
public interface Authenticator {

    /** @throws StatusRuntimeException UNAUTHENTICATED with a message naming what is wrong with the token */
    Principal authenticate(String token);

    /** What it checks, for the start-up log line (never a secret). */
    String describe();

    /** UNAUTHENTICATED {@code authorization: problem}. */
    static StatusRuntimeException refused(String problem) {
        return Status.UNAUTHENTICATED.withDescription("authorization: " + problem).asRuntimeException();
    }

    /**
     * A token file and signed tokens together: a JWT (three base64url parts) goes to {@code jwt}, anything else to
     * {@code tokens}. Either may be null.
     */
    static Authenticator either(Authenticator tokens, Authenticator jwt) {
        if (tokens == null || jwt == null) {
            return tokens != null ? tokens : jwt;
        }
        return new Authenticator() {
            @Override
            public Principal authenticate(String token) {
                return JwtAuthenticator.looksLikeJwt(token) ? jwt.authenticate(token) : tokens.authenticate(token);
            }

            @Override
            public String describe() {
                return tokens.describe() + " and " + jwt.describe();
            }
        };
    }
}

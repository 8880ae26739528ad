package dev.warmroute.cluster.auth;

import dev.warmroute.cluster.CallerIdentity;
import io.grpc.Metadata;

/** The client side of bearer tokens: what the CLI and the test clients send. */
public final class BearerToken {

    /** The environment variable the CLI's commands read their token from. */
    public static final String ENV = "WARMROUTE_TOKEN";

    private BearerToken() {}

    /** {@code authorization: Bearer TOKEN}; no header for a null or blank token (an open cluster). */
    public static Metadata headers(String token) {
        Metadata m = new Metadata();
        if (token != null && !token.isBlank()) {
            m.put(CallerIdentity.AUTHORIZATION, "Bearer " + token.strip());
        }
        return m;
    }

    /** {@link #headers} of {@code $WARMROUTE_TOKEN}. */
    public static Metadata fromEnv() {
        return headers(System.getenv(ENV));
    }
}

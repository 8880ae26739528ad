package dev.warmroute.cluster.auth;

import java.nio.file.Path;

/**
 * How a server authenticates its callers. All empty: open (callers name themselves with {@code x-warmroute-owner},
 * as on a laptop); any source set: every ChatService and AdminService call needs a bearer token from one of them.
 *
 * @param tokens       token file ({@link TokenFile}), or null
 * @param jwtSecret    file with an HMAC secret for signed tokens, or null
 * @param jwtPublicKey PEM public key (RSA or EC) for signed tokens, or null (not with {@code jwtSecret})
 * @param jwtIssuer    required {@code iss} of signed tokens; empty: not checked
 * @param jwtAudience  required {@code aud} of signed tokens; empty: not checked
 */
public record AuthSettings(Path tokens, Path jwtSecret, Path jwtPublicKey, String jwtIssuer, String jwtAudience) {

    public static final AuthSettings OPEN = new AuthSettings(null, null, null, "", "");

    public AuthSettings {
        if (jwtSecret != null && jwtPublicKey != null) {
            throw new IllegalArgumentException("--auth-jwt-secret and --auth-jwt-public-key: give one of them");
        }
        jwtIssuer = jwtIssuer == null ? "" : jwtIssuer;
        jwtAudience = jwtAudience == null ? "" : jwtAudience;
    }

    public boolean enabled() {
        return tokens != null || jwtSecret != null || jwtPublicKey != null;
    }

    /** The authenticator these settings describe, null when open. Reads the files now (errors name the flag). */
    public Authenticator authenticator() {
        if (!enabled()) {
            return null;
        }
        Authenticator file = tokens == null ? null : TokenFile.load(tokens);
        Authenticator jwt = jwtSecret != null ? JwtAuthenticator.hmac(jwtSecret, jwtIssuer, jwtAudience)
                : jwtPublicKey != null ? JwtAuthenticator.publicKey(jwtPublicKey, jwtIssuer, jwtAudience) : null;
        return Authenticator.either(file, jwt);
    }
}

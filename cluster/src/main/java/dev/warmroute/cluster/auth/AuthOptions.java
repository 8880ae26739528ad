package dev.warmroute.cluster.auth;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The authentication flags of every server that takes client calls (router, worker): a picocli mixin. */
public final class AuthOptions {

    @Option(names = "--auth-tokens", paramLabel = "FILE", description = {
            "Require bearer tokens listed (as SHA-256 hashes) in FILE: lines 'sha256:HEX PRINCIPAL [admin]',"
                    + " written by 'warmroute auth token'; re-read within a second of a change."})
    public Path tokens;

    @Option(names = "--auth-jwt-secret", paramLabel = "FILE",
            description = "Also accept JWTs signed with the HMAC secret in FILE (HS256/384/512; at least 32 bytes).")
    public Path jwtSecret;

    @Option(names = "--auth-jwt-public-key", paramLabel = "PEM",
            description = "Also accept JWTs signed by the RSA or EC key whose public half is in PEM (RS*, PS*, ES*).")
    public Path jwtPublicKey;

    @Option(names = "--auth-jwt-issuer", defaultValue = "", paramLabel = "ISS",
            description = "Required iss claim of JWTs (default: not checked).")
    public String jwtIssuer;

    @Option(names = "--auth-jwt-audience", defaultValue = "", paramLabel = "AUD",
            description = "Required aud claim of JWTs (default: not checked).")
    public String jwtAudience;

    public AuthSettings toSettings() {
        return new AuthSettings(tokens, jwtSecret, jwtPublicKey, jwtIssuer, jwtAudience);
    }
}

package dev.warmroute.cluster.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.LogSafe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

/**
 * Signed bearer tokens (JWT): HMAC with a shared secret (HS256/384/512), or RSA / EC signatures checked with a
 * public key in PEM (RS*, PS*, ES*). The principal is the {@code sub} claim; {@code exp} is required; the caller is
 * an admin when the token says {@code "warmroute_admin": true}; issuer and audience are checked when configured.
 * Clock skew of 30 s is allowed.
 *
 * <p>Why Nimbus JOSE+JWT: the most used JOSE library on the JVM (Spring Security's resource server is built on it),
 * kept up, with no dependencies of its own; it rejects unsigned ("alg": "none") tokens and algorithm confusion
 * (only the algorithms of the configured key are accepted). Crypto is not written here.
 */
public final class JwtAuthenticator implements Authenticator {

    /** The claim that makes a principal an admin. */
    public static final String ADMIN_CLAIM = "warmroute_admin";
    private static final int MAX_CLOCK_SKEW_SECONDS = 30;

    private final DefaultJWTProcessor<SecurityContext> processor;
    private final String description;

    private JwtAuthenticator(DefaultJWTProcessor<SecurityContext> processor, String description) {
        this.processor = processor;
        this.description = description;
    }

    /** HMAC: the secret is the file's bytes (trailing whitespace stripped), at least 32 of them (HS256's key size). */
    public static JwtAuthenticator hmac(Path secretFile, String issuer, String audience) {
        byte[] secret = read(secretFile, "--auth-jwt-secret").strip().getBytes(StandardCharsets.UTF_8);
        if (secret.length < 32) {
            throw new IllegalArgumentException("--auth-jwt-secret: " + secretFile + " holds " + secret.length
                    + " bytes; an HMAC secret needs at least 32 (e.g. openssl rand -base64 48)");
        }
        Set<JWSAlgorithm> algs = new HashSet<>(JWSAlgorithm.Family.HMAC_SHA);
        return build(algs, new ImmutableSecret<>(secret), issuer, audience, "JWT (HMAC secret " + secretFile + ")");
    }

    /** RSA or EC: a {@code -----BEGIN PUBLIC KEY-----} PEM file (X.509 SubjectPublicKeyInfo). */
    public static JwtAuthenticator publicKey(Path pemFile, String issuer, String audience) {
        String pem = read(pemFile, "--auth-jwt-public-key");
        int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
        int end = pem.indexOf("-----END PUBLIC KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("--auth-jwt-public-key: " + pemFile + " has no '-----BEGIN PUBLIC"
                    + " KEY-----' block (openssl pkey -pubout writes one)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + 26, end));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--auth-jwt-public-key: " + pemFile + ": not base64 inside the PEM");
        }
        PublicKey key = null;
        for (String kind : new String[] {"RSA", "EC"}) {
            try {
                key = KeyFactory.getInstance(kind).generatePublic(new X509EncodedKeySpec(der));
                break;
            } catch (java.security.GeneralSecurityException e) {
                // try the next kind
            }
        }
        JWKSet set;
        Set<JWSAlgorithm> algs = new HashSet<>();
        if (key instanceof RSAPublicKey rsa) {
            set = new JWKSet(new RSAKey.Builder(rsa).build());
            algs.addAll(JWSAlgorithm.Family.RSA);
        } else if (key instanceof ECPublicKey ec) {
            try {
                set = new JWKSet(new ECKey.Builder(com.nimbusds.jose.jwk.Curve.forECParameterSpec(ec.getParams()), ec)
                        .build());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--auth-jwt-public-key: " + pemFile + ": an EC key on a curve"
                        + " JOSE does not name (use P-256, P-384 or P-521)");
            }
            algs.addAll(JWSAlgorithm.Family.EC);
        } else {
            throw new IllegalArgumentException("--auth-jwt-public-key: " + pemFile + " is neither an RSA nor an EC"
                    + " public key");
        }
        JWKSource<SecurityContext> source = new ImmutableJWKSet<>(set);
        return build(algs, source, issuer, audience, "JWT (" + key.getAlgorithm() + " public key " + pemFile + ")");
    }

    private static JwtAuthenticator build(Set<JWSAlgorithm> algs, JWKSource<SecurityContext> keys, String issuer,
            String audience, String description) {
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(algs, keys));
        JWTClaimsSet exact = issuer == null || issuer.isEmpty() ? new JWTClaimsSet.Builder().build()
                : new JWTClaimsSet.Builder().issuer(issuer).build();
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                audience == null || audience.isEmpty() ? null : audience, exact, Set.of("sub", "exp"));
        claims.setMaxClockSkew(MAX_CLOCK_SKEW_SECONDS);
        p.setJWTClaimsSetVerifier(claims);
        String d = description + (issuer == null || issuer.isEmpty() ? "" : ", issuer " + issuer)
                + (audience == null || audience.isEmpty() ? "" : ", audience " + audience);
        return new JwtAuthenticator(p, d);
    }

    @Override
    public Principal authenticate(String token) {
        if (token.length() > TokenFile.MAX_TOKEN_CHARS) {
            throw Authenticator.refused("the token is longer than " + TokenFile.MAX_TOKEN_CHARS + " characters");
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException e) {
            throw Authenticator.refused("not a well-formed JWT (" + LogSafe.text(e.getMessage()) + ")");
        } catch (BadJOSEException e) {
            // Nimbus's words name the check: "Expired JWT", "Signed JWT rejected: Invalid signature", ...
            throw Authenticator.refused("JWT rejected: " + LogSafe.text(e.getMessage()));
        } catch (com.nimbusds.jose.JOSEException e) {
            throw Authenticator.refused("JWT could not be verified: " + LogSafe.text(e.getMessage()));
        }
        String sub = claims.getSubject();
        if (!ApiLimits.OWNER.matcher(sub).matches()) {
            throw Authenticator.refused("the JWT's sub claim must be " + ApiLimits.OWNER_RULE + ", got '"
                    + LogSafe.id(sub) + "'");
        }
        Object admin = claims.getClaim(ADMIN_CLAIM);
        return new Principal(sub, Boolean.TRUE.equals(admin));
    }

    @Override
    public String describe() {
        return description;
    }

    /** Three base64url parts: what a compact JWS looks like (a token of the token file has no dots). */
    static boolean looksLikeJwt(String token) {
        int first = token.indexOf('.');
        return first > 0 && token.indexOf('.', first + 1) > first && token.chars().filter(c -> c == '.').count() == 2;
    }

    private static String read(Path file, String flag) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(flag + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}

package dev.warmroute.cluster.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Date;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtAuthenticatorTest {

    private static final byte[] SECRET = "a shared secret that is longer than thirty-two bytes"
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private Path secretFile() throws Exception {
        return Files.write(dir.resolve("secret"), SECRET);
    }

    private static JWTClaimsSet.Builder claims(String sub) {
        return new JWTClaimsSet.Builder().subject(sub).expirationTime(new Date(System.currentTimeMillis() + 600_000));
    }

    private static String sign(JWTClaimsSet c, JWSAlgorithm alg, JWSSigner signer) throws Exception {
        SignedJWT t = new SignedJWT(new JWSHeader(alg), c);
        t.sign(signer);
        return t.serialize();
    }

    private static String refusal(Authenticator a, String token) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> a.authenticate(token));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        return e.getStatus().getDescription();
    }

    @Test
    void anHmacTokenNamesItsSubjectAndAdminClaim() throws Exception {
        JwtAuthenticator a = JwtAuthenticator.hmac(secretFile(), "", "");
        assertEquals(new Principal("alice", false), a.authenticate(sign(claims("alice").build(), JWSAlgorithm.HS256,
                new MACSigner(SECRET))));
        assertEquals(new Principal("root", true), a.authenticate(sign(claims("root").claim("warmroute_admin", true)
                .build(), JWSAlgorithm.HS384, new MACSigner(SECRET))));
    }

    @Test
    void expiredUnsignedMissingClaimsAndForeignKeysAreRefusedSayingWhy() throws Exception {
        JwtAuthenticator a = JwtAuthenticator.hmac(secretFile(), "", "");
        MACSigner signer = new MACSigner(SECRET);
        String expired = sign(new JWTClaimsSet.Builder().subject("alice")
                .expirationTime(new Date(System.currentTimeMillis() - 120_000)).build(), JWSAlgorithm.HS256, signer);
        assertTrue(refusal(a, expired).contains("Expired JWT"), refusal(a, expired));
        String noExp = sign(new JWTClaimsSet.Builder().subject("alice").build(), JWSAlgorithm.HS256, signer);
        assertTrue(refusal(a, noExp).contains("exp"), refusal(a, noExp));
        String none = new PlainJWT(claims("alice").build()).serialize();
        assertTrue(refusal(a, none).startsWith("authorization: JWT rejected"), refusal(a, none));
        String foreign = sign(claims("alice").build(), JWSAlgorithm.HS256,
                new MACSigner("someone else's secret, also long enough to sign".getBytes(StandardCharsets.UTF_8)));
        assertTrue(refusal(a, foreign).contains("signature"), refusal(a, foreign));
        String badSub = sign(claims("has space").build(), JWSAlgorithm.HS256, signer);
        assertTrue(refusal(a, badSub).contains("sub claim must be"), refusal(a, badSub));
        assertTrue(refusal(a, "eyJ.not.ajwt").startsWith("authorization: not a well-formed JWT"));
    }

    @Test
    void issuerAndAudienceAreCheckedWhenConfigured() throws Exception {
        JwtAuthenticator a = JwtAuthenticator.hmac(secretFile(), "https://idp.example", "warmroute");
        MACSigner signer = new MACSigner(SECRET);
        assertEquals("alice", a.authenticate(sign(claims("alice").issuer("https://idp.example").audience("warmroute")
                .build(), JWSAlgorithm.HS256, signer)).name());
        String wrongIssuer = sign(claims("alice").issuer("https://evil.example").audience("warmroute").build(),
                JWSAlgorithm.HS256, signer);
        assertTrue(refusal(a, wrongIssuer).contains("iss"), refusal(a, wrongIssuer));
        String noAudience = sign(claims("alice").issuer("https://idp.example").build(), JWSAlgorithm.HS256, signer);
        assertTrue(refusal(a, noAudience).contains("aud"), refusal(a, noAudience));
    }

    @Test
    void rsaAndEcPublicKeysVerifyTheirOwnSignaturesOnly() throws Exception {
        KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
        rsaGen.initialize(2048);
        KeyPair rsa = rsaGen.generateKeyPair();
        JwtAuthenticator byRsa = JwtAuthenticator.publicKey(pem(rsa, "rsa.pem"), "", "");
        assertEquals("alice", byRsa.authenticate(sign(claims("alice").build(), JWSAlgorithm.RS256,
                new RSASSASigner(rsa.getPrivate()))).name());

        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ec = ecGen.generateKeyPair();
        JwtAuthenticator byEc = JwtAuthenticator.publicKey(pem(ec, "ec.pem"), "", "");
        String ecToken = sign(claims("bob").build(), JWSAlgorithm.ES256, new ECDSASigner((ECPrivateKey) ec.getPrivate()));
        assertEquals("bob", byEc.authenticate(ecToken).name());
        refusal(byRsa, ecToken);
        // Algorithm confusion: an HMAC token "signed" with the public key's bytes is not accepted by a key verifier.
        String confused = sign(claims("mallory").build(), JWSAlgorithm.HS256, new MACSigner(rsa.getPublic().getEncoded()));
        refusal(byRsa, confused);
    }

    @Test
    void badKeyFilesAreRefusedAtStartNamingTheFlag() throws Exception {
        Path shortSecret = Files.writeString(dir.resolve("short"), "too short\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.hmac(shortSecret, "", ""));
        assertTrue(e.getMessage().startsWith("--auth-jwt-secret: ") && e.getMessage().contains("at least 32"),
                e.getMessage());
        Path notPem = Files.writeString(dir.resolve("key.pem"), "hello");
        e = assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.publicKey(notPem, "", ""));
        assertTrue(e.getMessage().startsWith("--auth-jwt-public-key: "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new AuthSettings(null, shortSecret, notPem, "", ""));
        assertTrue(e.getMessage().contains("give one of them"), e.getMessage());
    }

    private Path pem(KeyPair kp, String name) throws Exception {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(kp.getPublic().getEncoded());
        return Files.writeString(dir.resolve(name), "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n");
    }
}

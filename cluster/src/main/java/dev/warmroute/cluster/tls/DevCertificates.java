package dev.warmroute.cluster.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A local CA and certificates for a dev cluster ({@code warmroute cert dev}, {@code cluster up --tls}): EC P-256,
 * SHA-256, valid for 30 days. Why Bouncy Castle: the JDK has no public API that issues certificates, and Bouncy
 * Castle is the library of the field for it (keytool cannot sign with a CA of its own in one step).
 *
 * <p>Files: {@code ca.pem} (the CA certificate; its key is not kept, so nothing more can be signed with it),
 * {@code server.pem} / {@code server-key.pem} (for routers and workers: server and client use, names localhost,
 * 127.0.0.1 and any given host), {@code client.pem} / {@code client-key.pem} (a client certificate for mTLS).
 */
public final class DevCertificates {

    public static final Duration VALIDITY = Duration.ofDays(30);

    private DevCertificates() {}

    /** The files written. */
    public record Written(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {}

    /** Writes the five files into {@code dir} (keys readable by the owner only); {@code hosts}: more names or IPs. */
    public static Written write(Path dir, List<String> hosts) throws IOException {
        try {
            Files.createDirectories(dir);
            KeyPair caKeys = ecKeys();
            X500Name caName = new X500Name("CN=warmroute dev CA " + Long.toHexString(new SecureRandom().nextLong()));
            X509Certificate ca = sign(caName, caName, caKeys, caKeys, true, null, null);
            List<GeneralName> names = new ArrayList<>(List.of(new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
            for (String h : hosts) {
                names.add(new GeneralName(h.chars().allMatch(c -> Character.isDigit(c) || c == '.' || c == ':')
                        ? GeneralName.iPAddress : GeneralName.dNSName, h));
            }
            KeyPair serverKeys = ecKeys();
            X509Certificate server = sign(new X500Name("CN=warmroute server"), caName, serverKeys, caKeys, false,
                    new GeneralNames(names.toArray(GeneralName[]::new)),
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
            KeyPair clientKeys = ecKeys();
            X509Certificate client = sign(new X500Name("CN=warmroute dev client"), caName, clientKeys, caKeys, false,
                    null, new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth});
            Written out = new Written(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server-key.pem"),
                    dir.resolve("client.pem"), dir.resolve("client-key.pem"));
            pem(out.ca(), "CERTIFICATE", ca.getEncoded(), false);
            pem(out.serverCert(), "CERTIFICATE", server.getEncoded(), false);
            pem(out.serverKey(), "PRIVATE KEY", serverKeys.getPrivate().getEncoded(), true);
            pem(out.clientCert(), "CERTIFICATE", client.getEncoded(), false);
            pem(out.clientKey(), "PRIVATE KEY", clientKeys.getPrivate().getEncoded(), true);
            return out;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("could not make the dev certificates: " + e.getMessage(), e);
        }
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X500Name subject, X500Name issuer, KeyPair subjectKeys, KeyPair issuerKeys,
            boolean isCa, GeneralNames san, KeyPurposeId[] purposes)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), subject,
                subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(isCa ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature));
        if (san != null) {
            b.addExtension(Extension.subjectAlternativeName, false, san);
        }
        if (purposes != null) {
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    private static void pem(Path file, String type, byte[] der, boolean secret) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type
                + "-----\n");
        if (secret) {
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not POSIX: the folder's permissions apply
            }
        }
    }
}

package dev.warmroute.cluster.tls;

import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * The PEM files of a TLS identity and trust: read with gRPC's parser ({@link CertificateUtils}), checked (the key
 * belongs to the certificate), and watched for a change by modification time and size.
 */
final class PemFiles {

    /** What was read; a part is null when its file is not configured. */
    record Contents(X509Certificate[] chain, PrivateKey key, X509Certificate[] ca) {}

    private final Path cert;
    private final Path key;
    private final Path ca;
    private long[] stamp;

    PemFiles(Path cert, Path key, Path ca) {
        this.cert = cert;
        this.key = key;
        this.ca = ca;
    }

    /** True when a file's modification time or size differs from the last {@link #read}. */
    boolean changed() throws IOException {
        return !Arrays.equals(stamp, stamp());
    }

    Contents read() throws IOException, GeneralSecurityException {
        long[] before = stamp();
        X509Certificate[] chain = null;
        PrivateKey privateKey = null;
        if (cert != null) {
            try (InputStream in = Files.newInputStream(cert)) {
                chain = CertificateUtils.getX509Certificates(in);
            }
            try (InputStream in = Files.newInputStream(key)) {
                privateKey = CertificateUtils.getPrivateKey(in);
            }
            if (chain.length == 0) {
                throw new GeneralSecurityException(cert + " holds no certificate");
            }
            requirePair(chain[0], privateKey);
        }
        X509Certificate[] trusted = null;
        if (ca != null) {
            try (InputStream in = Files.newInputStream(ca)) {
                trusted = CertificateUtils.getX509Certificates(in);
            }
            if (trusted.length == 0) {
                throw new GeneralSecurityException(ca + " holds no certificate");
            }
        }
        stamp = before;
        return new Contents(chain, privateKey, trusted);
    }

    /** A signature by the key that the certificate's public key verifies: they belong together. */
    private void requirePair(X509Certificate leaf, PrivateKey k) throws GeneralSecurityException {
        String alg = k.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + k.getAlgorithm();
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        Signature sign = Signature.getInstance(alg);
        sign.initSign(k);
        sign.update(challenge);
        byte[] sig = sign.sign();
        Signature verify = Signature.getInstance(alg);
        verify.initVerify(leaf.getPublicKey());
        verify.update(challenge);
        if (!verify.verify(sig)) {
            throw new GeneralSecurityException(key + " is not the key of the certificate in " + cert);
        }
    }

    private long[] stamp() throws IOException {
        long[] s = new long[6];
        Path[] all = {cert, key, ca};
        for (int i = 0; i < all.length; i++) {
            if (all[i] != null) {
                s[2 * i] = Files.getLastModifiedTime(all[i]).toMillis();
                s[2 * i + 1] = Files.size(all[i]);
            }
        }
        return s;
    }
}

package dev.warmroute.cluster.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * TLS of one server and of the calls it makes (a router's to its workers), from PEM files. Off ({@link #OFF}): every
 * hop is plaintext, as on a laptop.
 *
 * @param cert              certificate chain (PEM) this process presents, as a server and, for mTLS, as a client
 * @param key               its private key (PKCS#8 PEM, {@code -----BEGIN PRIVATE KEY-----})
 * @param ca                CA certificates (PEM) trusted for the servers this process calls and, with
 *                          {@code requireClientCert}, for the client certificates it accepts; null: the JDK's
 * @param requireClientCert mutual TLS: a client without a certificate signed by {@code ca} fails the handshake
 * @param reload            how often the files are read again (rotated certificates are picked up without a restart)
 */
public record TlsSettings(Path cert, Path key, Path ca, boolean requireClientCert, Duration reload) {

    public static final TlsSettings OFF = new TlsSettings(null, null, null, false, Duration.ofMinutes(1));

    public TlsSettings {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key: give both (the certificate and its key)");
        }
        if (requireClientCert && (ca == null || cert == null)) {
            throw new IllegalArgumentException("--tls-client-auth require: needs --tls-cert, --tls-key and --tls-ca"
                    + " (the CA that signs the client certificates)");
        }
        if (reload == null || reload.isNegative() || reload.isZero() || reload.toHours() > 24) {
            throw new IllegalArgumentException("--tls-reload-seconds: must be 1 to 86400, got " + reload);
        }
        for (var f : new Object[][] {{"--tls-cert", cert}, {"--tls-key", key}, {"--tls-ca", ca}}) {
            Path p = (Path) f[1];
            if (p != null && !Files.isReadable(p)) {
                throw new IllegalArgumentException(f[0] + ": cannot read " + p);
            }
        }
    }

    /** True when this process serves TLS. */
    public boolean enabled() {
        return cert != null;
    }
}

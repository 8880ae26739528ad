package dev.warmroute.cluster.tls;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The TLS flags of routers and workers: a picocli mixin. */
public final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "PEM",
            description = "Serve gRPC over TLS with this certificate chain (and present it to workers as a router).")
    public Path cert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The private key of --tls-cert (PKCS#8 PEM).")
    public Path key;

    @Option(names = "--tls-ca", paramLabel = "PEM",
            description = "CA certificates to trust: for the workers a router calls, and for client certificates"
                    + " with --tls-client-auth require (default: the JDK's trusted CAs).")
    public Path ca;

    @Option(names = "--tls-client-auth", defaultValue = "none", paramLabel = "none|require",
            description = "require: mutual TLS, clients must present a certificate signed by --tls-ca"
                    + " (default ${DEFAULT-VALUE}).")
    public String clientAuth;

    @Option(names = "--tls-reload-seconds", defaultValue = "60", paramLabel = "S",
            description = "Read the certificate, key and CA files again this often: rotation without a restart"
                    + " (default ${DEFAULT-VALUE}).")
    public long reloadSeconds;

    public TlsSettings toSettings() {
        boolean require = switch (clientAuth) {
            case "none" -> false;
            case "require" -> true;
            default -> throw new IllegalArgumentException("--tls-client-auth: none or require, got '" + clientAuth
                    + "'");
        };
        if (cert == null && key == null && ca == null && !require) {
            return TlsSettings.OFF;
        }
        return new TlsSettings(cert, key, ca, require, Duration.ofSeconds(reloadSeconds));
    }
}

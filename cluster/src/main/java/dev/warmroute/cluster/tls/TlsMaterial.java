package dev.warmroute.cluster.tls;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live key and trust managers of {@link TlsSettings}: gRPC's own {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager} (the ones its TLS credentials are built for, swappable while serving), fed
 * from the PEM files, which are looked at again every {@code reload} on a thread of this class ({@link #reload}):
 * a rotated certificate is used by the next handshake without a restart. No TLS code is written here.
 *
 * <p>Three credentials come out: the server's (TLS, mutual when the settings say so), a client's for calls to other
 * servers of the cluster (verifies the chain against the CA and the host name; presents this process's certificate
 * for mTLS), and a loopback one for the HTTP front calling the gRPC server of its own process (the chain is
 * verified, the host name not: a certificate names the host's public name, the call goes to 127.0.0.1).
 */
public final class TlsMaterial implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

    private final TlsSettings settings;
    private final ScheduledExecutorService reloader;
    private final AdvancedTlsX509KeyManager keys;
    private final AdvancedTlsX509TrustManager serverTrust;
    private final AdvancedTlsX509TrustManager loopbackTrust;
    private final AdvancedTlsX509TrustManager clientAuthTrust;
    private final PemFiles files;

    private TlsMaterial(TlsSettings s) throws IOException, GeneralSecurityException {
        this.settings = s;
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tls-reload");
            t.setDaemon(true);
            return t;
        });
        try {
            keys = s.cert() != null ? new AdvancedTlsX509KeyManager() : null;
            serverTrust = trustManager(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION);
            loopbackTrust = trustManager(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION);
            clientAuthTrust = s.requireClientCert()
                    ? trustManager(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION) : null;
            if (s.ca() == null) {
                for (AdvancedTlsX509TrustManager t : trustManagers()) {
                    t.useSystemDefaultTrustCerts();
                }
            }
            files = new PemFiles(s.cert(), s.key(), s.ca());
            apply(files.read());
            long period = s.reload().toMillis();
            reloader.scheduleWithFixedDelay(this::reload, period, period, TimeUnit.MILLISECONDS);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private static AdvancedTlsX509TrustManager trustManager(AdvancedTlsX509TrustManager.Verification v)
            throws GeneralSecurityException {
        return AdvancedTlsX509TrustManager.newBuilder().setVerification(v).build();
    }

    private List<AdvancedTlsX509TrustManager> trustManagers() {
        List<AdvancedTlsX509TrustManager> out = new ArrayList<>(List.of(serverTrust, loopbackTrust));
        if (clientAuthTrust != null) {
            out.add(clientAuthTrust);
        }
        return out;
    }

    private void apply(PemFiles.Contents c) throws IOException, GeneralSecurityException {
        if (c.chain() != null) {
            keys.updateIdentityCredentials(c.chain(), c.key());
        }
        if (c.ca() != null) {
            for (AdvancedTlsX509TrustManager t : trustManagers()) {
                t.updateTrustCredentials(c.ca());
            }
        }
    }

    /**
     * Reads the files again when one changed (time or size). gRPC's own file watching has a floor of one minute,
     * which is why this does the watching; what it loads goes to gRPC's managers all the same. A certificate and
     * key that do not belong together (caught half-way through a rotation) or a file that does not parse keep the
     * previous ones until a later look finds a good pair.
     */
    private void reload() {
        try {
            if (files.changed()) {
                apply(files.read());
                log.info("tls.reloaded cert={} ca={}", settings.cert(), settings.ca());
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            log.warn("tls.reload-failed cert={} ca={}: {}; keeping the previous certificates", settings.cert(),
                    settings.ca(), e.getMessage());
        }
    }

    /** Null for {@link TlsSettings#OFF}. IllegalArgumentException naming the flag when a file does not parse. */
    public static TlsMaterial open(TlsSettings s) {
        if (s == null || (s.cert() == null && s.ca() == null)) {
            return null;
        }
        try {
            return new TlsMaterial(s);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls-cert/--tls-key/--tls-ca: " + e.getMessage()
                    + " (PEM certificates and a PKCS#8 key, as warmroute cert dev writes them)", e);
        }
    }

    /** What a gRPC server of this process listens with: plaintext when {@code tls} is null or has no certificate. */
    public static ServerCredentials serverCredentials(TlsMaterial tls) {
        if (tls == null || tls.keys == null) {
            return InsecureServerCredentials.create();
        }
        TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(tls.keys);
        if (tls.clientAuthTrust != null) {
            b.trustManager(tls.clientAuthTrust).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
        }
        return b.build();
    }

    /** What this process calls other servers of the cluster with (a router's workers): plaintext when null. */
    public static ChannelCredentials channelCredentials(TlsMaterial tls) {
        if (tls == null) {
            return InsecureChannelCredentials.create();
        }
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(tls.serverTrust);
        if (tls.keys != null) {
            b.keyManager(tls.keys);
        }
        return b.build();
    }

    /** What the HTTP front calls the gRPC server of its own process with, over loopback. */
    public static ChannelCredentials loopbackCredentials(TlsMaterial tls) {
        if (tls == null || tls.keys == null) {
            return InsecureChannelCredentials.create();
        }
        return TlsChannelCredentials.newBuilder().trustManager(tls.loopbackTrust).keyManager(tls.keys).build();
    }

    public TlsSettings settings() {
        return settings;
    }

    @Override
    public void close() {
        reloader.shutdownNow();
    }
}

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

/**
 * The live key and trust managers of {@link TlsSettings}: gRPC's own {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager}, which read the PEM files again every {@code reload} on a thread of their own,
 * so a rotated certificate is used by the next handshake without a restart (a file that fails to parse keeps the
 * last good one; gRPC logs the failure). Why these: they are grpc-java's own, the ones its TLS credentials are built
 * for, with reloading in the box; no TLS code is written here.
 *
 * <p>Three credentials come out: the server's (TLS, mutual when the settings say so), a client's for calls to other
 * servers of the cluster (verifies the chain against the CA and the host name; presents this process's certificate
 * for mTLS), and a loopback one for the HTTP front calling the gRPC server of its own process (the chain is
 * verified, the host name not: a certificate names the host's public name, the call goes to 127.0.0.1).
 */
public final class TlsMaterial implements AutoCloseable {

    private final TlsSettings settings;
    private final ScheduledExecutorService reloader;
    private final AdvancedTlsX509KeyManager keys;
    private final AdvancedTlsX509TrustManager serverTrust;
    private final AdvancedTlsX509TrustManager loopbackTrust;
    private final AdvancedTlsX509TrustManager clientAuthTrust;
    private final List<AutoCloseable> watches = new ArrayList<>();

    private TlsMaterial(TlsSettings s) throws IOException, GeneralSecurityException {
        this.settings = s;
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tls-reload");
            t.setDaemon(true);
            return t;
        });
        long period = s.reload().toSeconds();
        try {
            if (s.cert() != null) {
                keys = new AdvancedTlsX509KeyManager();
                watches.add(keys.updateIdentityCredentials(s.cert().toFile(), s.key().toFile(), period,
                        TimeUnit.SECONDS, reloader));
            } else {
                keys = null;
            }
            serverTrust = trust(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION,
                    period);
            loopbackTrust = trust(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION, period);
            clientAuthTrust = s.requireClientCert()
                    ? trust(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION, period) : null;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            close();
            throw e;
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

    private AdvancedTlsX509TrustManager trust(AdvancedTlsX509TrustManager.Verification v, long period)
            throws IOException, GeneralSecurityException {
        AdvancedTlsX509TrustManager t = AdvancedTlsX509TrustManager.newBuilder().setVerification(v).build();
        if (settings.ca() != null) {
            watches.add(t.updateTrustCredentials(settings.ca().toFile(), period, TimeUnit.SECONDS, reloader));
        } else {
            t.useSystemDefaultTrustCerts();
        }
        return t;
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
        for (AutoCloseable w : watches) {
            try {
                w.close();
            } catch (Exception e) {
                // stopping a reload task cannot fail in a way that matters here
            }
        }
        reloader.shutdownNow();
    }
}

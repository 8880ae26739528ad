package dev.warmroute.cluster.tls;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.util.Map;

/**
 * The CLI's side of TLS, from the environment (as {@code WARMROUTE_TOKEN} is): {@code WARMROUTE_TLS_CA} (PEM CAs to
 * trust; set it to speak TLS), and for mutual TLS {@code WARMROUTE_TLS_CERT} and {@code WARMROUTE_TLS_KEY}.
 * {@code cluster up --tls} prints the lines to export.
 */
public final class ClientTls {

    public static final String CA = "WARMROUTE_TLS_CA";
    public static final String CERT = "WARMROUTE_TLS_CERT";
    public static final String KEY = "WARMROUTE_TLS_KEY";

    private ClientTls() {}

    /** Plaintext unless {@code WARMROUTE_TLS_CA} is set. */
    public static ChannelCredentials fromEnv() {
        return from(System.getenv());
    }

    static ChannelCredentials from(Map<String, String> env) {
        String ca = env.get(CA);
        String cert = env.get(CERT);
        String key = env.get(KEY);
        if (blank(ca) && blank(cert)) {
            return InsecureChannelCredentials.create();
        }
        if (blank(cert) != blank(key)) {
            throw new IllegalArgumentException(CERT + " and " + KEY + ": set both (a client certificate and its key)");
        }
        try {
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            if (!blank(ca)) {
                b.trustManager(new File(ca));
            }
            if (!blank(cert)) {
                b.keyManager(new File(cert), new File(key));
            }
            return b.build();
        } catch (IOException e) {
            throw new IllegalArgumentException(CA + "/" + CERT + "/" + KEY + ": " + e.getMessage(), e);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}

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
        for (String[] f : new String[][] {{CA, ca}, {CERT, cert}}) {
            if (!blank(f[1])) {
                requirePem(f[0], f[1], "-----BEGIN CERTIFICATE-----");
            }
        }
        if (!blank(key)) {
            requirePem(KEY, key, "PRIVATE KEY-----");
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

    /**
     * What a person should read for a failed call: the status, and a hint when it looks like plaintext spoken to a
     * TLS server (the connection closes without an answer) or an untrusted certificate.
     */
    public static String describe(io.grpc.Status s) {
        String text = s.getCode() + ": " + s.getDescription();
        if (s.getCode() != io.grpc.Status.Code.UNAVAILABLE) {
            return text;
        }
        String d = String.valueOf(s.getDescription()) + " " + s.getCause();
        if (blank(System.getenv(CA)) && d.contains("Network closed")) {
            return text + " (a TLS server? set " + CA + " to the PEM of its CA; cluster up --tls prints it)";
        }
        if (d.contains("PKIX") || d.contains("SSLHandshake") || d.contains("certificate")) {
            return text + " (TLS handshake failed: does " + CA + " hold the CA that signed the server's certificate,"
                    + " and does the server require a client certificate: " + CERT + ", " + KEY + "?)";
        }
        return text;
    }

    private static void requirePem(String variable, String file, String marker) {
        String text;
        try {
            text = java.nio.file.Files.readString(java.nio.file.Path.of(file));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(variable + ": cannot read " + file + " (" + e.getMessage() + ")");
        }
        if (!text.contains(marker)) {
            throw new IllegalArgumentException(variable + ": " + file + " holds no '" + marker + "' PEM block");
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}

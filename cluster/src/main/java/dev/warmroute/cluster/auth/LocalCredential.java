package dev.warmroute.cluster.auth;

import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A secret that only this JVM knows: what the HTTP front sends on its own lookups (the models served, from
 * AdminService or WorkerService) to the gRPC server of the same process over loopback, which then treats the call
 * as the process's own, an admin principal named {@link #PRINCIPAL}. Clients cannot present it: it is 192 random
 * bits made at class load, never written anywhere, and not forwarded from router to worker.
 */
public final class LocalCredential {

    public static final String PRINCIPAL = "local";

    /** Request metadata key of the process-local secret. */
    public static final Metadata.Key<String> METADATA_KEY =
            Metadata.Key.of("x-warmroute-local", Metadata.ASCII_STRING_MARSHALLER);

    private static final String TOKEN = newToken();

    private LocalCredential() {}

    /** Headers that mark a call as this process's own. */
    public static Metadata headers() {
        Metadata m = new Metadata();
        m.put(METADATA_KEY, TOKEN);
        return m;
    }

    /** Constant-time check of a presented value. */
    public static boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(TOKEN.getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.US_ASCII));
    }

    private static String newToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

package dev.warmroute.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.grpc.Metadata;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The secret that marks a call as coming from inside the cluster (a router continuing an interrupted stream). It
 * lives in the cluster's control map: whoever can reach Hazelcast is inside, a gRPC client of the router is not.
 * The first process to ask creates it.
 */
public final class InternalCredential {

    /** Request metadata key that carries the credential from routers to workers. */
    public static final Metadata.Key<String> METADATA_KEY =
            Metadata.Key.of("x-warmroute-internal", Metadata.ASCII_STRING_MARSHALLER);

    private static final String MAP_KEY = "internal-credential";

    private final String token;

    private InternalCredential(String token) {
        this.token = token;
    }

    /** Reads the cluster's credential, creating it if this is the first process to ask. */
    public static InternalCredential obtain(HazelcastInstance hz) {
        IMap<String, String> control = hz.getMap(ClusterMaps.CONTROL);
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String fresh = HexFormat.of().formatHex(random);
        String existing = control.putIfAbsent(MAP_KEY, fresh);
        return new InternalCredential(existing != null ? existing : fresh);
    }

    /** For tests and single-process deployments. */
    public static InternalCredential of(String token) {
        return new InternalCredential(token);
    }

    public String token() {
        return token;
    }

    /** Constant-time comparison of a presented token. */
    public boolean matches(String presented) {
        if (presented == null) {
            return false;
        }
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.US_ASCII));
    }
}

package dev.warmroute.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secret that marks a call as coming from inside the cluster: a router's call to a worker (which may then carry
 * the caller's identity as {@code x-warmroute-owner}, and continue an interrupted stream). It lives in the
 * cluster's control map: whoever can reach Hazelcast is inside, a gRPC client of the router is not. The first
 * process to ask creates it.
 *
 * <p>Live, not read once: the control entry is re-created when every member holding it is gone (a full restart,
 * two members lost at once), and a router that kept the old value would have every call refused by workers that
 * know the new one. So the value is re-read from the map every {@link #REFRESH_NANOS} when used, and at once
 * (at most once a second, so a flood of bad credentials does not become a flood of map reads) when a presented
 * credential does not match. A read that fails or takes longer than {@link #READ_TIMEOUT_MS} keeps the last value.
 */
public final class InternalCredential {

    private static final Logger log = LoggerFactory.getLogger(InternalCredential.class);

    /** Request metadata key that carries the credential from routers to workers. */
    public static final Metadata.Key<String> METADATA_KEY =
            Metadata.Key.of("x-warmroute-internal", Metadata.ASCII_STRING_MARSHALLER);

    private static final String MAP_KEY = "internal-credential";
    static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long MISMATCH_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long READ_TIMEOUT_MS = 500;

    private final IMap<String, String> control;
    private volatile String token;
    private volatile long fetchedAt;
    private volatile long mismatchRefreshAt;
    private static final java.util.concurrent.Executor BACKGROUND = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "credential-refresh");
                t.setDaemon(true);
                return t;
            });
    private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();

    private InternalCredential(IMap<String, String> control, String token) {
        this.control = control;
        this.token = token;
        this.fetchedAt = System.nanoTime();
        this.mismatchRefreshAt = fetchedAt - MISMATCH_REFRESH_NANOS;
    }

    /** The cluster's credential, creating it if this is the first process to ask, and following it afterwards. */
    public static InternalCredential obtain(HazelcastInstance hz) {
        IMap<String, String> control = hz.getMap(ClusterMaps.CONTROL);
        return new InternalCredential(control, getOrCreate(control));
    }

    /** A fixed credential, for tests and single-process deployments. */
    public static InternalCredential of(String token) {
        return new InternalCredential(null, token);
    }

    private static String getOrCreate(IMap<String, String> control) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String fresh = HexFormat.of().formatHex(random);
        String existing = control.putIfAbsent(MAP_KEY, fresh);
        return existing != null ? existing : fresh;
    }

    /**
     * The current value. When it is older than two seconds, a re-read is started in the background and this call
     * returns at once: it runs on gRPC's threads (a router's calls to workers), which must never wait on the cluster,
     * least of all during a partition, when a map call can block for its whole invocation timeout.
     */
    public String token() {
        if (control != null && System.nanoTime() - fetchedAt > REFRESH_NANOS) {
            refreshInBackground();
        }
        return token;
    }

    /** Constant-time comparison of a presented token with the current value. */
    public boolean matches(String presented) {
        if (presented == null) {
            return false;
        }
        if (equal(token(), presented)) {
            return true;
        }
        long now = System.nanoTime();
        if (control == null || now - mismatchRefreshAt < MISMATCH_REFRESH_NANOS) {
            return false;
        }
        mismatchRefreshAt = now;
        // One bounded read: a process holding the old value learns the re-created one here (at most once a second).
        try {
            String current = control.getAsync(MAP_KEY).toCompletableFuture().get(READ_TIMEOUT_MS,
                    TimeUnit.MILLISECONDS);
            if (current != null) {
                follow(current);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("credential.read-failed, keeping the last value: {}", e.toString());
        }
        return equal(token, presented);
    }

    private void refreshInBackground() {
        if (!refreshing.compareAndSet(false, true)) {
            return;
        }
        fetchedAt = System.nanoTime();
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String fresh = HexFormat.of().formatHex(random);
        control.getAsync(MAP_KEY).toCompletableFuture()
                .thenCompose(v -> v != null ? CompletableFuture.completedFuture(v)
                        : CompletableFuture.supplyAsync(() -> {
                            // The entry is gone (re-created elsewhere soon, or this is the first to notice): put
                            // one, on a thread of its own, since IMap has no asynchronous putIfAbsent.
                            String previous = control.putIfAbsent(MAP_KEY, fresh);
                            return previous != null ? previous : fresh;
                        }, BACKGROUND))
                .orTimeout(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .whenComplete((v, e) -> {
                    if (v != null) {
                        follow(v);
                    } else if (e != null) {
                        log.debug("credential.refresh-failed, keeping the last value: {}", e.toString());
                    }
                    refreshing.set(false);
                });
    }

    private void follow(String current) {
        if (!current.equals(token)) {
            log.info("credential.changed: the cluster's internal credential was re-created (a full restart or a"
                    + " lost control entry); following it");
            token = current;
        }
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }
}

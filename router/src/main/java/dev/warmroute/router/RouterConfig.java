package dev.warmroute.router;

import dev.warmroute.cluster.ConfigChecks;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.auth.AuthSettings;
import dev.warmroute.cluster.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a router needs to start, validated once. Defaults suit a laptop: one router on 127.0.0.1:7000, a
 * Hazelcast client of the workers' cluster at 127.0.0.1:5701, failover tuned for seconds, not minutes.
 *
 * @param host             gRPC bind address
 * @param port             gRPC port (0 = any free port; the bound one is in the ready file)
 * @param routerId         id reported in RoutingInfo and the admin API; empty = "router@" + host:bound port
 * @param hazelcast        how to reach the cluster (client mode)
 * @param loadBound        c: a worker above c × mean in-flight load gets no new placements
 * @param maxAttempts      workers tried for one turn, resumes included, before the client gets the error
 * @param breaker          per-worker circuit breaker settings
 * @param bulkhead         most calls one router runs on one worker at once (more are refused at once, not queued)
 * @param workerWindow     HTTP/2 flow-control window of each call to a worker, in bytes: the most a worker's answer
 *                         can run ahead of what the router has passed on to a slow client
 * @param unaryTimeout     deadline of forwarded unary calls when the client set none
 * @param turnTimeout      deadline of a turn when the client set none
 * @param storeTimeout     deadline of each Hazelcast call (bindings, drain flags, status)
 * @param metricsPort      Prometheus endpoint port (0 = off)
 * @param readyFile        written with the bound ports once serving (null = none)
 * @param shutdownGrace    how long a graceful stop lets running turns finish
 * @param parentPid        exit when this process ends (0 = no watch); set by launchers of child JVMs
 * @param placement        how workers are picked: hybrid (default), hash or round-robin ({@link PlacementMode})
 * @param rebalance        hybrid only: a session moves to a worker that joined after it was bound by the hash and is
 *                         now its hash's first choice (about 1/n of the sessions when an n-th worker joins)
 * @param rebalanceRate    most such moves per second from this router; more wait for a later turn
 * @param admitQueued      turns the router lets wait in a worker's queue beyond its advertised capacity (0: a worker
 *                         is offered at most its capacity; a turn that finds every worker full is refused at once with
 *                         RESOURCE_EXHAUSTED and retry-after instead of queueing)
 * @param spillReserve     hybrid placement: slots of its capacity a worker keeps for its own sessions while another
 *                         worker's sessions spill to it because their first choice is full (trunk reservation)
 * @param retryAfter       the retry-after hint of a refused turn before this router has timed any turn (after that:
 *                         the recent turn time, rounded up to whole seconds)
 * @param auth             how clients are authenticated ({@link AuthSettings#OPEN}: they name themselves)
 * @param tls              TLS towards clients and towards the workers ({@link TlsSettings#OFF}: plaintext)
 * @param limits           per-principal calls per second and concurrent turns ({@link PrincipalLimits.Settings#OFF})
 */
public record RouterConfig(
        String host,
        int port,
        String routerId,
        HazelcastSettings hazelcast,
        double loadBound,
        int maxAttempts,
        BreakerSettings breaker,
        int bulkhead,
        int workerWindow,
        Duration unaryTimeout,
        Duration turnTimeout,
        Duration storeTimeout,
        int metricsPort,
        Path readyFile,
        Duration shutdownGrace,
        long parentPid,
        PlacementMode placement,
        boolean rebalance,
        double rebalanceRate,
        int admitQueued,
        int spillReserve,
        Duration retryAfter,
        AuthSettings auth,
        TlsSettings tls,
        PrincipalLimits.Settings limits) {

    /**
     * The per-worker breaker: a count-based window of the last {@code window} calls opens when {@code failureRate}
     * percent of them failed (once at least {@code minimumCalls} were seen), stays open for {@code openWait}, then
     * lets {@code halfOpenCalls} trial calls decide.
     */
    public record BreakerSettings(int window, float failureRate, int minimumCalls, Duration openWait,
            int halfOpenCalls) {
        public BreakerSettings {
            if (window < 1 || window > 1000) {
                throw new IllegalArgumentException("breaker-window: must be in [1, 1000], got " + window);
            }
            if (!(failureRate > 0 && failureRate <= 100)) {
                throw new IllegalArgumentException("breaker-failure-rate: must be in (0, 100] percent, got "
                        + failureRate);
            }
            if (minimumCalls < 1 || minimumCalls > window) {
                throw new IllegalArgumentException("breaker-min-calls: must be in [1, breaker-window " + window
                        + "], got " + minimumCalls);
            }
            if (openWait == null || openWait.isNegative() || openWait.isZero()) {
                throw new IllegalArgumentException("breaker-open-ms: must be positive, got " + openWait);
            }
            if (halfOpenCalls < 1 || halfOpenCalls > 100) {
                throw new IllegalArgumentException("breaker-half-open-calls: must be in [1, 100], got "
                        + halfOpenCalls);
            }
        }

        /** 10 calls, 50 %, at least 4 calls, 3 s open, 2 trial calls. */
        public static BreakerSettings defaults() {
            return new BreakerSettings(10, 50f, 4, Duration.ofSeconds(3), 2);
        }
    }

    public RouterConfig {
        Objects.requireNonNull(hazelcast, "hazelcast");
        Objects.requireNonNull(breaker, "breaker");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(limits, "limits");
        ConfigChecks.requireHost(host);
        ConfigChecks.requirePort(port, "port");
        routerId = routerId == null ? "" : routerId.strip();
        if (!routerId.isEmpty() && !routerId.matches("[A-Za-z0-9._:@-]{1,128}")) {
            throw new IllegalArgumentException("router-id: must be 1 to 128 characters of [A-Za-z0-9._:@-], got '"
                    + routerId + "'");
        }
        if (hazelcast.mode() != HazelcastSettings.Mode.CLIENT) {
            throw new IllegalArgumentException("hazelcast: a router joins the cluster as a client (mode CLIENT)");
        }
        if (!(loadBound >= 1.0 && loadBound <= 100)) {
            throw new IllegalArgumentException("load-bound: must be in [1, 100] (c in c x mean load), got "
                    + loadBound);
        }
        if (maxAttempts < 1 || maxAttempts > 10) {
            throw new IllegalArgumentException("max-attempts: must be in [1, 10], got " + maxAttempts);
        }
        if (bulkhead < 1 || bulkhead > 100_000) {
            throw new IllegalArgumentException("bulkhead: must be in [1, 100000], got " + bulkhead);
        }
        if (workerWindow < 1024 || workerWindow > 64 * 1024 * 1024) {
            throw new IllegalArgumentException("worker-window-kb: must be in [1, 65536] KiB, got " + workerWindow
                    + " bytes");
        }
        ConfigChecks.requirePositive(unaryTimeout, "unary-timeout-ms");
        ConfigChecks.requirePositive(turnTimeout, "turn-timeout-seconds");
        ConfigChecks.requirePositive(storeTimeout, "store-timeout-ms");
        ConfigChecks.requirePositive(shutdownGrace, "shutdown-grace-seconds");
        ConfigChecks.requireMetricsPort(metricsPort);
        ConfigChecks.requireParentPid(parentPid);
        Objects.requireNonNull(placement, "placement");
        if (admitQueued < 0 || admitQueued > 100_000) {
            throw new IllegalArgumentException("admit-queued: must be in [0, 100000] turns, got " + admitQueued);
        }
        if (spillReserve < 0 || spillReserve > 10_000) {
            throw new IllegalArgumentException("spill-reserve: must be in [0, 10000] slots, got " + spillReserve);
        }
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (retryAfter.toSeconds() < 1 || retryAfter.toSeconds() > 3600) {
            throw new IllegalArgumentException("retry-after-seconds: must be in [1, 3600], got "
                    + retryAfter.toSeconds());
        }
        if (!(rebalanceRate > 0 && rebalanceRate <= 100_000)) {
            throw new IllegalArgumentException("rebalance-rate: must be in (0, 100000] moves per second, got "
                    + rebalanceRate);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().host(host).port(port).routerId(routerId).hazelcast(hazelcast).loadBound(loadBound)
                .maxAttempts(maxAttempts).breaker(breaker).bulkhead(bulkhead).workerWindow(workerWindow).unaryTimeout(unaryTimeout)
                .turnTimeout(turnTimeout).storeTimeout(storeTimeout).metricsPort(metricsPort).readyFile(readyFile)
                .shutdownGrace(shutdownGrace).parentPid(parentPid).placement(placement).rebalance(rebalance)
                .rebalanceRate(rebalanceRate).admitQueued(admitQueued).spillReserve(spillReserve).retryAfter(retryAfter)
                .auth(auth).tls(tls).limits(limits);
    }

    /** Laptop defaults. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 7000;
        private String routerId = "";
        private HazelcastSettings hazelcast = HazelcastSettings.builder().mode(HazelcastSettings.Mode.CLIENT)
                .members(java.util.List.of("127.0.0.1:5701")).build();
        private double loadBound = 1.25;
        private int maxAttempts = 3;
        private BreakerSettings breaker = BreakerSettings.defaults();
        private int bulkhead = 64;
        private int workerWindow = 1024 * 1024;
        private Duration unaryTimeout = Duration.ofSeconds(10);
        private Duration turnTimeout = Duration.ofMinutes(10);
        private Duration storeTimeout = Duration.ofSeconds(2);
        private int metricsPort = 0;
        private Path readyFile;
        private Duration shutdownGrace = Duration.ofSeconds(20);
        private long parentPid = 0;
        private PlacementMode placement = PlacementMode.HYBRID;
        private boolean rebalance = true;
        private double rebalanceRate = 20;
        private int admitQueued = 0;
        private int spillReserve = 1;
        private Duration retryAfter = Duration.ofSeconds(1);
        private AuthSettings auth = AuthSettings.OPEN;
        private TlsSettings tls = TlsSettings.OFF;
        private PrincipalLimits.Settings limits = PrincipalLimits.Settings.OFF;

        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder routerId(String v) { routerId = v; return this; }
        public Builder hazelcast(HazelcastSettings v) { hazelcast = v; return this; }
        public Builder loadBound(double v) { loadBound = v; return this; }
        public Builder maxAttempts(int v) { maxAttempts = v; return this; }
        public Builder breaker(BreakerSettings v) { breaker = v; return this; }
        public Builder bulkhead(int v) { bulkhead = v; return this; }
        public Builder workerWindow(int v) { workerWindow = v; return this; }
        public Builder unaryTimeout(Duration v) { unaryTimeout = v; return this; }
        public Builder turnTimeout(Duration v) { turnTimeout = v; return this; }
        public Builder storeTimeout(Duration v) { storeTimeout = v; return this; }
        public Builder metricsPort(int v) { metricsPort = v; return this; }
        public Builder readyFile(Path v) { readyFile = v; return this; }
        public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
        public Builder parentPid(long v) { parentPid = v; return this; }
        public Builder placement(PlacementMode v) { placement = v; return this; }
        public Builder rebalance(boolean v) { rebalance = v; return this; }
        public Builder rebalanceRate(double v) { rebalanceRate = v; return this; }
        public Builder admitQueued(int v) { admitQueued = v; return this; }
        public Builder retryAfter(Duration v) { retryAfter = v; return this; }
        public Builder spillReserve(int v) { spillReserve = v; return this; }
        public Builder auth(AuthSettings v) { auth = v; return this; }
        public Builder tls(TlsSettings v) { tls = v; return this; }
        public Builder limits(PrincipalLimits.Settings v) { limits = v; return this; }

        public RouterConfig build() {
            return new RouterConfig(host, port, routerId, hazelcast, loadBound, maxAttempts, breaker, bulkhead,
                    workerWindow, unaryTimeout, turnTimeout, storeTimeout, metricsPort, readyFile, shutdownGrace, parentPid,
                    placement, rebalance, rebalanceRate, admitQueued, spillReserve, retryAfter, auth, tls, limits);
        }
    }
}

package dev.warmroute.router;

import dev.warmroute.cluster.DiscoveryFlags;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.auth.AuthOptions;
import dev.warmroute.cluster.flags.HazelcastOptions;
import dev.warmroute.cluster.tls.TlsOptions;
import dev.warmroute.http.HttpFrontOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The router's flags, in one place: {@code warmroute router} mixes them in, and so does {@link RouterRole} (what the
 * router JVMs of tests, drills and {@code cluster up} run), so both take exactly the same arguments. The Hazelcast
 * flags are the shared mixins of the cluster module, the {@code --http-*} flags the http module's.
 */
public final class RouterOptions {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "gRPC bind address (default ${DEFAULT-VALUE}).")
    public String host;

    @Option(names = "--port", defaultValue = "7000", description = "gRPC port; 0 picks a free one (default ${DEFAULT-VALUE}).")
    public int port;

    @Option(names = "--router-id", defaultValue = "", description = "Id reported in RoutingInfo and the admin API (default: router@host:port).")
    public String routerId;

    @Option(names = "--members", defaultValue = "127.0.0.1:5701", paramLabel = "HOST:PORT,...",
            description = "Hazelcast members to connect to, as a client (default ${DEFAULT-VALUE}; not used with"
                    + " --discovery kubernetes).")
    public String members;

    @Mixin
    public HazelcastOptions hazelcast = new HazelcastOptions();

    /** {@code --auth-*}: bearer tokens for client calls (open without them). */
    @Mixin
    public AuthOptions auth = new AuthOptions();

    /** {@code --tls-*}: TLS on the gRPC server (and, for a router, towards the workers). */
    @Mixin
    public TlsOptions tls = new TlsOptions();

    /** The OpenAI-compatible HTTP front beside the gRPC server ({@code --http-*}; off without {@code --http-port}). */
    @Mixin
    public HttpFrontOptions http = new HttpFrontOptions();

    @Option(names = "--load-bound", defaultValue = "1.25", paramLabel = "C",
            description = "A worker above C x mean in-flight load gets no new placements (default ${DEFAULT-VALUE}).")
    public double loadBound;

    @Option(names = "--max-attempts", defaultValue = "3", description = "Workers tried for one turn, resumes included (default ${DEFAULT-VALUE}).")
    public int maxAttempts;

    @Option(names = "--breaker-window", defaultValue = "10", description = "Calls in each worker breaker's window (default ${DEFAULT-VALUE}).")
    public int breakerWindow;

    @Option(names = "--breaker-failure-rate", defaultValue = "50", paramLabel = "PERCENT",
            description = "Failed share of the window that opens the breaker (default ${DEFAULT-VALUE}).")
    public float breakerFailureRate;

    @Option(names = "--breaker-min-calls", defaultValue = "4", description = "Calls seen before the breaker may open (default ${DEFAULT-VALUE}).")
    public int breakerMinCalls;

    @Option(names = "--breaker-open-ms", defaultValue = "3000", description = "How long an open breaker refuses calls (default ${DEFAULT-VALUE}).")
    public long breakerOpenMs;

    @Option(names = "--breaker-half-open-calls", defaultValue = "2", description = "Trial calls after the open wait (default ${DEFAULT-VALUE}).")
    public int breakerHalfOpenCalls;

    @Option(names = "--bulkhead", defaultValue = "64", description = "Most calls at once to one worker; more are refused, not queued (default ${DEFAULT-VALUE}).")
    public int bulkhead;

    @Option(names = "--worker-window-kb", defaultValue = "1024",
            description = "Flow-control window of each call to a worker: how far an answer may run ahead of a slow "
                    + "client in transit through the router (default ${DEFAULT-VALUE}).")
    public int workerWindowKb;

    @Option(names = "--unary-timeout-ms", defaultValue = "10000", description = "Deadline of forwarded unary calls without a client deadline (default ${DEFAULT-VALUE}).")
    public long unaryTimeoutMs;

    @Option(names = "--turn-timeout-seconds", defaultValue = "600", description = "Deadline of a turn without a client deadline (default ${DEFAULT-VALUE}).")
    public long turnTimeoutSeconds;

    @Option(names = "--store-timeout-ms", defaultValue = "2000", description = "Deadline of each Hazelcast call (default ${DEFAULT-VALUE}).")
    public long storeTimeoutMs;

    @Option(names = "--metrics-port", defaultValue = "0", description = "Prometheus /metrics port; 0 = off (default ${DEFAULT-VALUE}).")
    public int metricsPort;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written with the bound ports once serving.")
    public Path readyFile;

    @Option(names = "--shutdown-grace-seconds", defaultValue = "20", description = "On SIGTERM, how long running turns may finish (default ${DEFAULT-VALUE}).")
    public int shutdownGraceSeconds;

    @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process ends (set by launchers).")
    public long parentPid;

    @Option(names = "--placement", defaultValue = "hybrid", paramLabel = "hybrid|hash|round-robin",
            description = "How workers are picked: hybrid = bindings, rendezvous hash, load bound, failover "
                    + "(warmroute); hash = plain session hashing, no binding, no load bound, no fallback; "
                    + "round-robin = each turn to the next worker (for --stateless workers). The last two are "
                    + "baselines for comparison (default ${DEFAULT-VALUE}).")
    public String placement;

    @Option(names = "--rebalance", defaultValue = "true", arity = "1", paramLabel = "true|false",
            description = "Hybrid placement: when a worker joins, the sessions whose hash now prefers it move to it "
                    + "on their next turn (one cold turn each); sessions moved by a failover never move back "
                    + "(default ${DEFAULT-VALUE}).")
    public boolean rebalance;

    @Option(names = "--rebalance-rate", defaultValue = "20", paramLabel = "MOVES_PER_S",
            description = "Most rebalancing moves this router starts per second; more wait for a later turn "
                    + "(default ${DEFAULT-VALUE}).")
    public double rebalanceRate;

    @Option(names = "--admit-queued", defaultValue = "0", paramLabel = "TURNS",
            description = "Turns this router lets wait in a worker's queue beyond the worker's advertised capacity; "
                    + "0 = a worker is offered at most its capacity, and a turn that finds every worker full is "
                    + "refused at once with RESOURCE_EXHAUSTED and a retry-after trailer (default ${DEFAULT-VALUE}).")
    public int admitQueued;

    @Option(names = "--spill-reserve", defaultValue = "1", paramLabel = "SLOTS",
            description = "Hybrid placement: while a session's first choice is full, another worker takes it only if "
                    + "more than this many of its capacity stay free for its own sessions (trunk reservation: a spilled "
                    + "turn is cold; at saturation the slot serves a warm turn instead) (default ${DEFAULT-VALUE}).")
    public int spillReserve;

    @Option(names = "--retry-after-seconds", defaultValue = "1", paramLabel = "S",
            description = "retry-after of a refused turn until this router has timed a turn; then the recent turn "
                    + "time, rounded up (default ${DEFAULT-VALUE}).")
    public long retryAfterSeconds;
    @Option(names = "--limit-calls-per-second", defaultValue = "0", paramLabel = "N",
            description = "ChatService calls per second per principal, per router; more get RESOURCE_EXHAUSTED with"
                    + " retry-after (default ${DEFAULT-VALUE}: no limit).")
    public int limitCallsPerSecond;

    @Option(names = "--limit-turns", defaultValue = "0", paramLabel = "N",
            description = "Turns (SendMessage calls) running at once per principal, per router; more get"
                    + " RESOURCE_EXHAUSTED (default ${DEFAULT-VALUE}: no limit).")
    public int limitTurns;

    /** The typed config; IllegalArgumentException naming the flag when a value is out of range. */
    public RouterConfig toConfig() {
        boolean kubernetes = hazelcast.kubernetes();
        // With Kubernetes discovery the members are found through the service; --members (which has a default)
        // is ignored rather than refused.
        List<String> seeds = kubernetes ? List.of() : DiscoveryFlags.seeds(members);
        if (seeds.isEmpty() && !kubernetes) {
            throw new IllegalArgumentException("members: required (host:port of at least one Hazelcast member, e.g."
                    + " a worker's --hazelcast-port)");
        }
        HazelcastSettings hz = hazelcast.applyTo(HazelcastSettings.builder().members(seeds)
                .mode(HazelcastSettings.Mode.CLIENT)).build();
        if (shutdownGraceSeconds < 0) {
            throw new IllegalArgumentException("shutdown-grace-seconds: must be positive, got " + shutdownGraceSeconds);
        }
        return RouterConfig.builder().host(host).port(port).routerId(routerId).hazelcast(hz).loadBound(loadBound)
                .maxAttempts(maxAttempts)
                .breaker(new RouterConfig.BreakerSettings(breakerWindow, breakerFailureRate, breakerMinCalls,
                        Duration.ofMillis(breakerOpenMs), breakerHalfOpenCalls))
                .bulkhead(bulkhead).workerWindow((int) Math.min(Integer.MAX_VALUE, workerWindowKb * 1024L))
                .unaryTimeout(Duration.ofMillis(unaryTimeoutMs))
                .turnTimeout(Duration.ofSeconds(turnTimeoutSeconds)).storeTimeout(Duration.ofMillis(storeTimeoutMs))
                .metricsPort(metricsPort).readyFile(readyFile)
                .shutdownGrace(Duration.ofSeconds(Math.max(1, shutdownGraceSeconds))).parentPid(parentPid)
                .placement(PlacementMode.parse(placement)).rebalance(rebalance).rebalanceRate(rebalanceRate)
                .admitQueued(admitQueued).spillReserve(spillReserve).retryAfter(Duration.ofSeconds(retryAfterSeconds))
                .auth(auth.toSettings()).tls(tls.toSettings())
                .limits(new PrincipalLimits.Settings(limitCallsPerSecond, limitTurns, 100_000)).build();
    }
}

package dev.warmroute.router;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.NearCacheConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.GrpcServers;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.cluster.LenientRequestMarshaller;
import dev.warmroute.cluster.MetricsServer;
import dev.warmroute.cluster.OpenCalls;
import dev.warmroute.cluster.ReadyFile;
import dev.warmroute.cluster.ServiceProcess;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.WorkerRegistry;
import dev.warmroute.cluster.auth.Authenticator;
import dev.warmroute.cluster.tls.TlsMaterial;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running router: the Hazelcast client, the worker directory, the gRPC server with ChatService (proxied),
 * AdminService, health and reflection, metrics and the ready file. {@link #close()} is the graceful stop.
 *
 * <p>Start: the gRPC server comes up at once with health NOT_SERVING and answers UNAVAILABLE; a background thread
 * waits for the cluster (the router may start before any worker), then follows the registry, reads the internal
 * credential, turns health SERVING and writes the ready file.
 *
 * <p>Threads: the gRPC server's handlers and its calls' callbacks (onReady, onCancel) run on {@link #executor}, a
 * virtual thread per task; the callbacks of calls to workers run on the transport's own threads (each worker
 * channel is built with {@code directExecutor()}, see {@link WorkerHandle}); binding moves run on {@link #executor}
 * too ({@link BindingMove}). Handlers block only briefly (a binding read, the owner's copy before a move, the
 * binding of a new session, a forwarded unary call), never for a whole turn: turns are relayed from callbacks.
 */
public final class RouterServer implements ServiceProcess.Server {

    private static final Logger log = LoggerFactory.getLogger(RouterServer.class);

    private final RouterConfig config;
    private final HealthStatusManager health = new HealthStatusManager();
    /**
     * Handlers and binding moves. They block on the cluster store and on forwarded unary calls, each briefly but with
     * no limit on how many at once, so a pool would have to be sized for the worst burst; a virtual thread per task
     * blocks for free. The relay of tokens does not run here: it stays on the transport's threads (no hand-off per
     * token), which is why nothing in it may block.
     */
    private final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("router-", 0).factory());
    private final ScheduledExecutorService timer;
    private final HazelcastInstance hz;
    private final BindingStore bindings;
    private final WorkerDirectory directory;
    private final RouterMetrics metrics;
    private final Server server;
    /** Null when open (callers name themselves). */
    private final Authenticator auth;
    /** Null when plaintext. */
    private final TlsMaterial tls;
    private final OpenCalls openCalls = new OpenCalls();
    private final MetricsServer metricsServer;
    private final Thread connector;
    private volatile String routerId = "";
    private volatile boolean ready;
    private volatile boolean closed;
    private volatile InternalCredential credential;
    private final Map<String, ?> readyExtras;
    private volatile WorkerRegistry registry;

    private RouterServer(RouterConfig config, PrometheusRegistry prometheus, Map<String, ?> readyExtras)
            throws IOException {
        this.config = config;
        this.readyExtras = Map.copyOf(readyExtras);
        // Reads the token file / keys now: a bad one fails the start naming the flag, before anything is opened.
        this.auth = config.auth().authenticator();
        this.tls = TlsMaterial.open(config.tls());
        setHealth(ServingStatus.NOT_SERVING);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "router-timer");
            t.setDaemon(true);
            return t;
        });
        // Asynchronous start: returns at once and keeps connecting in the background.
        this.hz = HazelcastClient.newHazelcastClient(clientConfig(config));
        try {
            this.directory = new WorkerDirectory(FailurePolicy.breakerConfig(config.breaker()),
                    FailurePolicy.bulkheadConfig(config.bulkhead()), timer, config.storeTimeout(),
                    config.workerWindow(), config.admitQueued(), () -> routerId, TlsMaterial.channelCredentials(tls));
            this.bindings = new BindingStore(hz, config.storeTimeout(), () -> routerId);
            SessionRouter sessions = new SessionRouter(directory, policy(config), bindings,
                    config.rebalance() ? new RebalanceThrottle(config.rebalanceRate()) : null, executor);
            this.metrics = new RouterMetrics(prometheus, directory::all, new RecentRate(),
                    sessions::rebalancesDeferred, directory::breakerOpens);
            RouterEnv env = new RouterEnv(() -> routerId, config, sessions, metrics, () -> credential);
            ChatProxy chat = new ChatProxy(env, directory, () -> ready && !closed);
            ClusterAdmin admin = new ClusterAdmin(env, directory, () -> hz, () -> ready && !closed);
            // Invalid UTF-8 in a request becomes INVALID_ARGUMENT naming the field, as on the worker.
            // Clients only: a router takes no calls from inside the cluster, so no internal credential here.
            ServerInterceptor adminOnly = CallerIdentity.adminOnly(auth != null);
            List<BindableService> services = List.of(() -> LenientRequestMarshaller.wrap(chat.bindService()),
                    () -> LenientRequestMarshaller.wrap(ServerInterceptors.intercept(admin.bindService(), adminOnly)));
            this.server = GrpcServers.start(config.host(), config.port(), TlsMaterial.serverCredentials(tls), health,
                    services,
                    // Called last to first: open calls, identity, then the principal's limits (which need it).
                    List.of(CallMetadata.trailersInterceptor(), new PrincipalLimits(config.limits(), prometheus),
                            CallerIdentity.interceptor(auth, null), openCalls),
                    executor);
        } catch (IOException | RuntimeException e) {
            hz.getLifecycleService().terminate();
            if (tls != null) {
                tls.close();
            }
            timer.shutdownNow();
            executor.shutdownNow();
            throw e;
        }
        this.routerId = config.routerId().isEmpty() ? "router@" + config.host() + ":" + server.getPort()
                : config.routerId();
        this.metricsServer = config.metricsPort() > 0
                ? MetricsServer.start(config.host(), config.metricsPort(), prometheus) : null;
        this.connector = Thread.ofPlatform().daemon().name("router-connect").start(this::connect);
        boolean hybrid = config.placement() == PlacementMode.HYBRID;
        log.info("router.tls router={} clients={} workers={}", routerId, tls == null || !config.tls().enabled()
                ? "plaintext" : config.tls().requireClientCert() ? "mutual TLS" : "TLS",
                tls == null ? "plaintext" : config.tls().cert() != null ? "mutual TLS (this router's certificate)"
                        : "TLS");
        PrincipalLimits.Settings lim = config.limits();
        log.info("router.limits router={} calls_per_second={} turns={} (per principal, per router)", routerId,
                lim.callsPerSecond() > 0 ? lim.callsPerSecond() : "none", lim.turns() > 0 ? lim.turns() : "none");
        if (auth == null) {
            log.warn("router.open router={}: no --auth-tokens or --auth-jwt-*: callers name themselves with"
                    + " x-warmroute-owner and anyone who reaches {}:{} may call AdminService; fine on a laptop, not"
                    + " in front of real clients", routerId, config.host(), server.getPort());
        } else {
            log.info("router.auth router={} clients={} admin=admin principals only", routerId, auth.describe());
        }
        log.info("router.started router={} address={}:{} cluster={} members={} placement={} load_bound={} "
                + "rebalance={} max_attempts={}", routerId, config.host(), server.getPort(),
                config.hazelcast().clusterName(), config.hazelcast().members(), config.placement().flag(),
                hybrid ? config.loadBound() : "none", hybrid ? (config.rebalance() ? "on, at most "
                        + config.rebalanceRate() + " moves/s" : "off") : "n/a", config.maxAttempts());
        if (!hybrid) {
            log.warn("router.baseline-placement router={} placement={}: a comparison baseline, not warmroute's "
                    + "placement (no bindings, no load bound{})", routerId, config.placement().flag(),
                    config.placement() == PlacementMode.HASH ? ", no fallback: a failed worker's sessions get errors"
                            : "; meant for --stateless workers");
        }
    }

    /** The placement of the configured mode. */
    private static PlacementPolicy policy(RouterConfig config) {
        return switch (config.placement()) {
            case HYBRID -> new HybridPlacement(config.loadBound(), config.spillReserve());
            case HASH -> new HashPlacement();
            case ROUND_ROBIN -> new RoundRobinPlacement();
        };
    }

    private static ClientConfig clientConfig(RouterConfig config) {
        ClientConfig c = HazelcastFactory.clientConfig(config.hazelcast(),
                "warmroute-router-" + ProcessHandle.current().pid() + "-" + System.nanoTime(),
                List.of(new Binding.Serializer(), new WorkerRegistration.Serializer()));
        // Bindings are read on every turn and change only when a session moves: keep them near, invalidated by the
        // members as soon as another router moves a session (HazelcastFactory turns invalidation batching off).
        c.addNearCacheConfig(new NearCacheConfig(ClusterMaps.BINDINGS).setInMemoryFormat(InMemoryFormat.OBJECT)
                .setInvalidateOnChange(true).setMaxIdleSeconds(3600));
        // A blocked Hazelcast call gives up after this; the router's own deadlines are much shorter, this only
        // bounds how long an abandoned call keeps its (virtual) thread.
        c.setProperty("hazelcast.client.invocation.timeout.seconds", "15");
        // When a member dies, calls to the partitions it owned are retried until the client has the new owners; the
        // default pause between retries (1 s) alone would make a binding move right after a kill -9 miss the
        // store's deadline.
        c.setProperty("hazelcast.client.invocation.retry.pause.millis", "100");
        return c;
    }

    /** Starts a router with its own metrics registry (several routers may share a JVM in tests). */
    public static RouterServer start(RouterConfig config) throws IOException {
        return new RouterServer(config, new PrometheusRegistry(), Map.of());
    }

    /** Starts a router whose metrics go to {@code registry} (the default one in a router JVM). */
    public static RouterServer start(RouterConfig config, PrometheusRegistry registry) throws IOException {
        return new RouterServer(config, registry, Map.of());
    }

    /**
     * Starts a router whose ready file also holds {@code readyExtras} (what runs beside it in the process: the HTTP
     * front's port).
     */
    public static RouterServer start(RouterConfig config, PrometheusRegistry registry, Map<String, ?> readyExtras)
            throws IOException {
        return new RouterServer(config, registry, readyExtras);
    }

    /** Waits for the cluster, then starts serving. Runs once, on its own thread. */
    private void connect() {
        try {
            long t0 = System.nanoTime();
            while (!closed && !HazelcastFactory.awaitConnected(hz, Duration.ofSeconds(10))) {
                log.warn("router.waiting-for-cluster router={} members={} waited_s={}", routerId,
                        config.hazelcast().members(), (System.nanoTime() - t0) / 1_000_000_000L);
            }
            if (closed) {
                return;
            }
            credential = InternalCredential.obtain(hz);
            registry = new WorkerRegistry(hz, config.storeTimeout());
            directory.follow(hz, registry);
            // Serve once the health of the workers already registered is known (a watch answers within
            // milliseconds), so the first turns after "ready" do not find every worker still UNKNOWN. Bounded: a
            // worker that does not answer is simply not serving.
            long healthDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (directory.all().stream().anyMatch(h -> h.health() == WorkerHandle.Health.UNKNOWN)
                    && System.nanoTime() < healthDeadline) {
                Thread.sleep(10);
            }
            hz.getLifecycleService().addLifecycleListener(this::lifecycle);
            ready = true;
            setHealth(ServingStatus.SERVING);
            log.info("router.ready router={} workers={} after_ms={}", routerId, directory.size(),
                    (System.nanoTime() - t0) / 1_000_000);
            writeReadyFile();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!closed) {
                log.error("router.start-failed router={}", routerId, e);
            }
        }
    }

    private void lifecycle(LifecycleEvent event) {
        switch (event.getState()) {
            case CLIENT_DISCONNECTED -> {
                if (!closed) {
                    // Turns still flow (placement by hash, bindings unknown), but readiness says we are degraded.
                    log.warn("router.cluster-disconnected router={}: placing by hash until the cluster is back",
                            routerId);
                    setHealth(ServingStatus.NOT_SERVING);
                }
            }
            case CLIENT_CONNECTED -> {
                if (!closed) {
                    executor.execute(() -> {
                        try {
                            directory.reconcile(registry.list());
                            log.info("router.cluster-reconnected router={} workers={}", routerId, directory.size());
                            setHealth(ServingStatus.SERVING);
                        } catch (RuntimeException e) {
                            log.warn("router.reconcile-failed router={}: {}", routerId, e.toString());
                        }
                    });
                }
            }
            default -> { }
        }
    }

    private void writeReadyFile() throws IOException {
        if (config.readyFile() == null) {
            return;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("role", "router");
        values.put("router_id", routerId);
        values.put("address", config.host() + ":" + server.getPort());
        values.put("grpc_port", server.getPort());
        values.put("metrics_port", metricsServer == null ? 0 : metricsServer.port());
        values.put("pid", ProcessHandle.current().pid());
        values.putAll(readyExtras);
        ReadyFile.write(config.readyFile(), values);
    }

    private void setHealth(ServingStatus status) {
        health.setStatus("", status);
        health.setStatus(ChatServiceGrpc.SERVICE_NAME, status);
        health.setStatus(AdminServiceGrpc.SERVICE_NAME, status);
    }

    public String routerId() {
        return routerId;
    }

    public int port() {
        return server.getPort();
    }

    public int metricsPort() {
        return metricsServer == null ? 0 : metricsServer.port();
    }

    /** True once connected to the cluster and following the registry. */
    public boolean ready() {
        return ready && !closed;
    }

    public WorkerDirectory directory() {
        return directory;
    }

    /** The sessions' bindings (tests read a binding's kind). */
    public BindingStore bindings() {
        return bindings;
    }

    public RouterMetrics metrics() {
        return metrics;
    }

    public HazelcastInstance hazelcast() {
        return hz;
    }

    /** Blocks until the gRPC server has stopped (the main thread of a router JVM, {@link RouterRole}). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Graceful stop: health NOT_SERVING (load balancers stop sending), no new calls, running turns get
     * {@code shutdownGrace} to finish, then the channels close and the Hazelcast client leaves.
     */
    @Override
    public io.grpc.ChannelCredentials loopbackCredentials() {
        return TlsMaterial.loopbackCredentials(tls);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        log.info("router.stopping router={} turns_running={}", routerId, metrics.turnsRunning());
        setHealth(ServingStatus.NOT_SERVING);
        server.shutdown();
        // Wait for the chat and admin calls until gRPC has closed them on the wire (OpenCalls says why not the
        // turn count, and why not every open call: health watches stay open for good).
        try {
            if (!openCalls.awaitNone(config.shutdownGrace())) {
                log.warn("router.stop-grace-expired router={} still_running={} open_calls={}", routerId,
                        metrics.turnsRunning(), openCalls.count());
            }
            server.shutdownNow();
            server.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        connector.interrupt();
        directory.close();
        if (registry != null) {
            registry.close();
        }
        bindings.close();
        if (metricsServer != null) {
            metricsServer.close();
        }
        try {
            hz.shutdown();
        } catch (RuntimeException e) {
            log.warn("router.hazelcast-shutdown-failed router={} error={}", routerId, e.toString());
        }
        timer.shutdownNow();
        executor.shutdownNow();
        if (tls != null) {
            tls.close();
        }
        log.info("router.stopped router={} after_ms={}", routerId, (System.nanoTime() - t0) / 1_000_000);
    }
}

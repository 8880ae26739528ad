package dev.warmroute.worker;

import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.LenientRequestMarshaller;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.WorkerServiceGrpc;
import dev.warmroute.api.v1.WorkerStats;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.engine.tensor.VectorWidth;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.GrpcServers;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.cluster.LenientRequestMarshaller;
import dev.warmroute.cluster.MetricsServer;
import dev.warmroute.cluster.ReadyFile;
import dev.warmroute.cluster.ServiceProcess;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.WorkerRegistry;
import dev.warmroute.cluster.auth.Authenticator;
import dev.warmroute.cluster.tls.TlsMaterial;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.cluster.store.SessionDatabase;
import dev.warmroute.cluster.store.SessionMapStore;
import dev.warmroute.cluster.store.StoreFailureException;
import dev.warmroute.cluster.store.StoreMetrics;
import dev.warmroute.cluster.store.StoreUnavailableException;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running worker: model, Hazelcast member (or client), KV caches, the gRPC server with ChatService, WorkerService,
 * health and reflection, the registry entry, metrics and the ready file. {@link #close()} is the graceful stop.
 *
 * <p>Start order: model, Hazelcast, gRPC server (health NOT_SERVING), registration; health goes SERVING only when all
 * of them are up, and the ready file is written last. Stop order is the reverse, with running turns allowed to
 * finish before the server and the Hazelcast member go.
 */
public final class WorkerServer implements ServiceProcess.Server {

    private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);

    private final WorkerConfig config;
    private final long startedNanos = System.nanoTime();
    private final EngineModel model;
    private final HazelcastInstance hz;
    /** The database behind the sessions map; null without a store (or in client mode). */
    private final SessionMapStore mapStore;
    private final SessionStore store;
    private final KvCacheManager caches;
    private final ComputeQueue compute;
    private final ScheduledExecutorService timer;
    private final ActiveTurns active = new ActiveTurns();
    private final WorkerMetrics metrics;
    private final ChatService chat;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;
    /** Null when plaintext. */
    private final TlsMaterial tls;
    private final WorkerRegistry registry;
    private final MetricsServer metricsServer;
    private final String workerId;
    private final String address;
    private volatile boolean shuttingDown;
    private boolean closed;

    private WorkerServer(WorkerConfig config, PrometheusRegistry prometheus, Map<String, ?> readyExtras)
            throws IOException {
        this.config = config;
        health.setStatus("", ServingStatus.NOT_SERVING);
        health.setStatus(ChatServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            this.model = EngineModel.load(config.model(), config.engineThreads());
            opened.add(model);
            long warmUpMs = model.warmUp();
            log.info("worker.model id={} synthetic={} context={} template={} ({}) kv_bytes_per_token={} warm_up_ms={}"
                    + " kernels={}", model.id(), model.synthetic(), model.contextLength(), model.templateName(),
                    model.templateReason(), model.kvBytesPerToken(), warmUpMs, VectorWidth.describe());
            if (VectorWidth.CURRENT == VectorWidth.SCALAR) {
                log.warn("worker.scalar-kernels model={}: the engine runs its scalar kernels because {}; same answers,"
                        + " but prefill is about 25x and decode 3-5x slower than with vector kernels", model.id(),
                        VectorWidth.hardware() == VectorWidth.SCALAR ? VectorWidth.hardwareReason()
                                : "-D" + VectorWidth.PROPERTY + " forces them");
            }
            List<CompactSerializer<?>> serializers = new ArrayList<>(SessionSerializers.all());
            serializers.add(new WorkerRegistration.Serializer());
            HazelcastSettings hs = config.hazelcast();
            this.mapStore = openStore(config, opened);
            this.hz = HazelcastFactory.start(hs, "warmroute-worker-" + ProcessHandle.current().pid() + "-"
                    + System.identityHashCode(this), Map.of("role", "worker"), serializers, mapStore);
            opened.add(() -> hz.getLifecycleService().terminate());
            if (hs.mode() == HazelcastSettings.Mode.CLIENT
                    && !HazelcastFactory.awaitConnected(hz, Duration.ofSeconds(30))) {
                throw new IOException("cannot reach the Hazelcast cluster at " + hs.members() + " within 30 s");
            }
            this.store = new SessionStore(hz, config.storeTimeout(), mapStore);
            opened.add(store);
            this.caches = new KvCacheManager(model.newPool(config.kvCacheBytes()), model::newCache,
                    config.stateless());
            this.compute = new ComputeQueue(config.capacity(), config.queue());
            opened.add(compute);
            this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "worker-timer");
                t.setDaemon(true);
                return t;
            });
            opened.add(timer::shutdownNow);
            this.metrics = new WorkerMetrics(prometheus, caches::bytesUsed, caches::sessions, caches::evictions,
                    compute::running, compute::queued, config.stateless());
            StoreMetrics.register(prometheus, mapStore == null ? null : mapStore.health());
            WorkerIdentity identity = new WorkerIdentity();
            PromptWindow window = new PromptWindow(model.chatTemplate());
            TurnRunner runner = new TurnRunner(model, window, store, caches, metrics, identity, config.prefillChunk(),
                    config.limits());
            Authenticator auth = config.auth().authenticator();
            TlsMaterial tls = TlsMaterial.open(config.tls());
            if (tls != null) {
                opened.add(tls::close);
            }
            this.tls = tls;
            InternalCredential credential = InternalCredential.obtain(hz);
            this.chat = new ChatService(model, window, store, caches,
                    new SessionGate(config.sessionWaiters(), config.sessionWait(), timer), compute, runner,
                    credential, active, metrics, config.streamStall(), config.limits());
            chat.starting(true);
            List<BindableService> services = List.of(
                    () -> LenientRequestMarshaller.wrap(chat.bindService()),
                    () -> LenientRequestMarshaller.wrap(new WorkerStatsService(this::stats).bindService()));
            // gRPC's own executor only runs handlers, which return at once (turns run on the compute queue).
            this.server = GrpcServers.start(config.host(), config.port(), TlsMaterial.serverCredentials(tls), health,
                    services,
                    List.of(CallMetadata.trailersInterceptor(), CallerIdentity.interceptor(auth, credential)), null);
            if (tls != null && config.tls().enabled()) {
                log.info("worker.tls port={} mode={}", server.getPort(), config.tls().requireClientCert()
                        ? "mutual TLS (routers and direct clients present a certificate)" : "TLS");
            }
            if (auth == null) {
                log.warn("worker.open port={}: no --auth-tokens or --auth-jwt-*: direct clients name themselves with"
                        + " x-warmroute-owner; fine on a laptop, not where clients can reach workers",
                        server.getPort());
            } else {
                log.info("worker.auth port={} clients={} routers=the cluster's internal credential", server.getPort(),
                        auth.describe());
            }
            opened.add(() -> server.shutdownNow());
            this.address = config.advertiseAddress().isEmpty() ? config.host() + ":" + server.getPort()
                    : config.advertiseAddress();
            this.workerId = config.workerId().isEmpty() ? address : config.workerId();
            identity.set(workerId);

            // Sessions deleted or expired anywhere: drop their caches here too.
            listenForRemovals(0);

            this.registry = new WorkerRegistry(hz, config.storeTimeout());
            opened.add(registry);
            String memberUuid = hs.mode() == HazelcastSettings.Mode.MEMBER
                    ? hz.getCluster().getLocalMember().getUuid().toString() : "";
            long now = System.currentTimeMillis();
            registry.register(new WorkerRegistration(workerId, address, config.capacity(), model.id(), memberUuid,
                    now, now, config.queue(), java.util.Map.of(), now), hs.heartbeat(), hs.maxNoHeartbeat());
            registry.reportLoad(active::byRouter);
            this.metricsServer = config.metricsPort() > 0
                    ? MetricsServer.start(config.host(), config.metricsPort(), prometheus) : null;
            chat.starting(false);
            if (mapStore != null) {
                // The worker stays SERVING while its store is down (reads of sessions in memory still work, and a
                // router must see the store named in each failure, not a worker that vanished); the store has its own
                // health service name for probes and dashboards.
                mapStore.health().onChange(up -> health.setStatus(STORE_HEALTH,
                        up ? ServingStatus.SERVING : ServingStatus.NOT_SERVING));
                health.setStatus(STORE_HEALTH, mapStore.health().up() ? ServingStatus.SERVING
                        : ServingStatus.NOT_SERVING);
            }
            health.setStatus("", ServingStatus.SERVING);
            health.setStatus(ChatServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
            health.setStatus(WorkerServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
            log.info("worker.ready worker={} address={} hazelcast={} mode={} capacity={} queue={} kv_budget_bytes={}"
                    + " stateless={}", workerId, address, hazelcastAddress(), hs.mode(), config.capacity(),
                    config.queue(), config.kvCacheBytes(), config.stateless());
            if (config.stateless()) {
                log.warn("worker.stateless worker={}: no KV cache is kept between turns; every turn recomputes its "
                        + "whole prompt (comparison mode, --stateless)", workerId);
            }
            if (config.readyFile() != null) {
                Map<String, Object> ready = new LinkedHashMap<>();
                ready.put("role", "worker");
                ready.put("worker_id", workerId);
                ready.put("address", address);
                ready.put("grpc_port", server.getPort());
                ready.put("hazelcast_port", hazelcastPort());
                ready.put("metrics_port", metricsServer == null ? 0 : metricsServer.port());
                ready.put("model_id", model.id());
                ready.put("pid", ProcessHandle.current().pid());
                ready.putAll(readyExtras);
                ReadyFile.write(config.readyFile(), ready);
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(opened);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(opened);
            throw new IOException("interrupted while starting", e);
        }
    }

    /**
     * Opens the database behind the sessions map (a member with a store only) and brings its schema up to date; a
     * worker whose store cannot be reached does not start, since it could acknowledge no turn.
     */
    private static SessionMapStore openStore(WorkerConfig config, List<AutoCloseable> opened) throws IOException {
        if (config.store() == null) {
            log.warn("worker.no-store: session history lives in Hazelcast's memory only and is lost when every member"
                    + " stops (start with --store or --data to keep it)");
            return null;
        }
        if (config.hazelcast().mode() != HazelcastSettings.Mode.MEMBER) {
            log.info("worker.store-ignored: a Hazelcast client; the data members own the store");
            return null;
        }
        SessionDatabase db;
        try {
            db = SessionDatabase.open(config.store());
        } catch (StoreUnavailableException | StoreFailureException e) {
            throw new IOException("history store: " + e.getMessage(), e);
        }
        opened.add(db);
        SessionMapStore mapStore = new SessionMapStore(db);
        opened.add(mapStore::destroy);
        log.info("worker.store store=\"{}\" write_through=true load=lazy", db.describe());
        return mapStore;
    }

    /** Health service name of the history store (grpc.health.v1): NOT_SERVING while the store is down. */
    public static final String STORE_HEALTH = "warmroute.store";

    /** Starts a worker with its own metrics registry (several workers may share a JVM in tests). */
    public static WorkerServer start(WorkerConfig config) throws IOException {
        return new WorkerServer(config, new PrometheusRegistry(), Map.of());
    }

    /** Starts a worker whose metrics go to {@code registry} (the default one in a worker JVM). */
    public static WorkerServer start(WorkerConfig config, PrometheusRegistry registry) throws IOException {
        return new WorkerServer(config, registry, Map.of());
    }

    /**
     * Starts a worker whose ready file also holds {@code readyExtras} (what runs beside it in the process: the HTTP
     * front's port).
     */
    public static WorkerServer start(WorkerConfig config, PrometheusRegistry registry, Map<String, ?> readyExtras)
            throws IOException {
        return new WorkerServer(config, registry, readyExtras);
    }

    public String workerId() {
        return workerId;
    }

    /** The advertised gRPC address, host:port. */
    public String address() {
        return address;
    }

    public int port() {
        return server.getPort();
    }

    public String modelId() {
        return model.id();
    }

    KvCacheManager caches() {
        return caches;
    }

    public HazelcastInstance hazelcast() {
        return hz;
    }

    /** Hazelcast member address, host:port (empty in client mode). */
    public String hazelcastAddress() {
        if (config.hazelcast().mode() != HazelcastSettings.Mode.MEMBER) {
            return "";
        }
        // The address the member advertises: with a wildcard --hazelcast-host (containers) Hazelcast picks it.
        com.hazelcast.cluster.Address a = hz.getCluster().getLocalMember().getAddress();
        return a.getHost() + ":" + a.getPort();
    }

    private int hazelcastPort() {
        return config.hazelcast().mode() == HazelcastSettings.Mode.MEMBER
                ? hz.getCluster().getLocalMember().getAddress().getPort() : 0;
    }

    public int metricsPort() {
        return metricsServer == null ? 0 : metricsServer.port();
    }

    /** This worker's figures (WorkerService.GetWorkerStats). */
    public WorkerStats stats() {
        return WorkerStats.newBuilder().setWorkerId(workerId == null ? "" : workerId)
                .setAddress(address == null ? "" : address).setModelId(model.id())
                .setModelSynthetic(model.synthetic()).setContextLength(model.contextLength())
                .setInFlight(compute.running()).setQueued(compute.queued()).setCapacity(compute.capacity())
                .setKvCache(caches.stats()).setTurns(metrics.turnStats()).setShuttingDown(shuttingDown)
                .setUptimeS((System.nanoTime() - startedNanos) / 1e9).setEngineThreads(model.threads())
                .setStateless(config.stateless()).setEngineVectorBits(VectorWidth.CURRENT.bits()).build();
    }

    /** Blocks until the gRPC server has stopped (the main thread of a worker JVM, {@link WorkerRole}). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public io.grpc.ChannelCredentials loopbackCredentials() {
        return TlsMaterial.loopbackCredentials(tls);
    }

    /**
     * Graceful stop: health NOT_SERVING and deregistration (routers stop sending turns), new turns refused with
     * UNAVAILABLE, running turns given {@code shutdownGrace} to finish, then the server stops and the Hazelcast
     * member leaves gracefully (its partitions migrate first, so no backup is lost).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        shuttingDown = true;
        long t0 = System.nanoTime();
        log.info("worker.stopping worker={} running={} queued={}", workerId, compute.running(), compute.queued());
        chat.shutDown();
        health.setStatus("", ServingStatus.NOT_SERVING);
        health.setStatus(ChatServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        health.setStatus(WorkerServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        registry.deregister();
        boolean idle;
        try {
            idle = active.awaitIdle(config.shutdownGrace());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        if (!idle) {
            log.warn("worker.stop-grace-expired worker={} still_running={}", workerId, active.count());
        }
        long drained = System.nanoTime();
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        long serverStopped = System.nanoTime();
        registry.close();
        compute.close();
        store.close();
        timer.shutdownNow();
        if (tls != null) {
            tls.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        long othersClosed = System.nanoTime();
        try {
            hz.shutdown();
        } catch (RuntimeException e) {
            log.warn("worker.hazelcast-shutdown-failed worker={} error={}", workerId, e.toString());
        }
        long hzStopped = System.nanoTime();
        if (mapStore != null) {
            mapStore.destroy();
            mapStore.database().close();
        }
        model.close();
        log.info("worker.stopped worker={} after_ms={} drain_ms={} server_ms={} close_ms={} hazelcast_ms={}", workerId,
                (System.nanoTime() - t0) / 1_000_000, (drained - t0) / 1_000_000, (serverStopped - drained) / 1_000_000,
                (othersClosed - serverStopped) / 1_000_000, (hzStopped - othersClosed) / 1_000_000);
    }

    /** kill -9 in a test: no goodbye to anyone (for tests of failures within one JVM). */
    void crash() {
        closed = true;
        server.shutdownNow();
        hz.getLifecycleService().terminate();
        if (mapStore != null) {
            mapStore.destroy();
            mapStore.database().close();
        }
        compute.close();
        model.close();
    }

    private static void closeQuietly(List<AutoCloseable> opened) {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception ignored) {
                // best effort while failing to start
            }
        }
    }

    /**
     * Registers {@link DropCacheListener}. Registering (and, with a store, creating the map's proxy, which starts its
     * loader) is an operation on the sessions map, which a member refuses while the cluster has fewer members than
     * the quorum of its configured size (the first worker of a cluster starts alone); then it is tried again every
     * 500 ms in the background. Nothing is missed meanwhile: without a
     * quorum no session can be deleted either.
     */
    private void listenForRemovals(int attempt) {
        try {
            if (config.hazelcast().mode() == HazelcastSettings.Mode.MEMBER
                    && hz.getCluster().getMembers().size() < config.hazelcast().quorum()) {
                // Not even worth asking: Hazelcast logs a stack trace for every proxy it fails to set up.
                throw new com.hazelcast.splitbrainprotection.SplitBrainProtectionException("members "
                        + hz.getCluster().getMembers().size() + " < quorum " + config.hazelcast().quorum());
            }
            IMap<String, SessionRecord> sessions = hz.getMap(ClusterMaps.SESSIONS);
            sessions.addEntryListener(new DropCacheListener(caches), false);
            if (attempt > 0) {
                log.info("worker.quorum members={}: the session map serves", hz.getCluster().getMembers().size());
            }
        } catch (com.hazelcast.splitbrainprotection.SplitBrainProtectionException e) {
            if (attempt == 0) {
                log.info("worker.waiting-for-quorum members={} quorum={}: the session map serves once enough workers"
                        + " have joined", hz.getCluster().getMembers().size(), config.hazelcast().quorum());
            }
            timer.schedule(() -> {
                if (!shuttingDown) {
                    listenForRemovals(attempt + 1);
                }
            }, 500, TimeUnit.MILLISECONDS);
        }
    }

    /** Drops the KV cache of a session removed from the cluster (deleted, expired, evicted). */
    private record DropCacheListener(KvCacheManager caches) implements EntryRemovedListener<String, SessionRecord>,
            EntryExpiredListener<String, SessionRecord>, EntryEvictedListener<String, SessionRecord> {
        @Override
        public void entryRemoved(EntryEvent<String, SessionRecord> e) {
            caches.drop(e.getKey());
        }

        @Override
        public void entryExpired(EntryEvent<String, SessionRecord> e) {
            caches.drop(e.getKey());
        }

        @Override
        public void entryEvicted(EntryEvent<String, SessionRecord> e) {
            caches.drop(e.getKey());
        }
    }
}

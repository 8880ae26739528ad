package dev.warmroute.router;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.WorkerRegistry;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers this router can send turns to: it follows the registry (joins, departures, expiries), each worker's
 * gRPC health, and the operators' drain flags, which live in the cluster's control map so that every router sees
 * the same ones.
 */
public final class WorkerDirectory implements WorkerRegistry.Listener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerDirectory.class);

    private final ConcurrentHashMap<String, WorkerHandle> workers = new ConcurrentHashMap<>();
    private final Set<String> draining = ConcurrentHashMap.newKeySet();
    private final CircuitBreakerConfig breakerConfig;
    private final BulkheadConfig bulkheadConfig;
    private final ScheduledExecutorService timer;
    private final Duration storeTimeout;
    private final int workerWindow;
    private final int admitQueued;
    private final java.util.function.Supplier<String> routerId;
    private final java.util.concurrent.atomic.LongAdder breakerOpens = new java.util.concurrent.atomic.LongAdder();
    private IMap<String, String> control;
    private UUID drainListener;
    private volatile boolean closed;

    private final ChannelCredentials credentials;

    /** A directory without capacity bounds (tests that bound workers themselves). */
    public WorkerDirectory(CircuitBreakerConfig breakerConfig, BulkheadConfig bulkheadConfig,
            ScheduledExecutorService timer, Duration storeTimeout, int workerWindow) {
        this(breakerConfig, bulkheadConfig, timer, storeTimeout, workerWindow, -1, () -> "",
                InsecureChannelCredentials.create());
    }

    /**
     * @param admitQueued turns of a worker's queue this router may fill beyond its advertised capacity
     *                    ({@link RouterConfig#admitQueued}); negative: workers are not bounded by capacity
     * @param routerId    this router's id (known once its port is bound)
     * @param credentials what the channels to workers speak: plaintext, TLS or mutual TLS
     */
    public WorkerDirectory(CircuitBreakerConfig breakerConfig, BulkheadConfig bulkheadConfig,
            ScheduledExecutorService timer, Duration storeTimeout, int workerWindow, int admitQueued,
            java.util.function.Supplier<String> routerId, ChannelCredentials credentials) {
        this.credentials = credentials;
        this.admitQueued = admitQueued;
        this.routerId = routerId;
        this.breakerConfig = breakerConfig;
        this.bulkheadConfig = bulkheadConfig;
        this.timer = timer;
        this.storeTimeout = storeTimeout;
        this.workerWindow = workerWindow;
    }

    /** Starts following the cluster: drain flags first, then the registry (which replays current workers). */
    public void follow(HazelcastInstance hz, WorkerRegistry registry) {
        control = hz.getMap(ClusterMaps.CONTROL);
        drainListener = control.addEntryListener(new DrainListener(), false);
        for (String key : control.keySet()) {
            if (key.startsWith(ClusterMaps.DRAIN_PREFIX)) {
                draining.add(key.substring(ClusterMaps.DRAIN_PREFIX.length()));
            }
        }
        registry.follow(this);
    }

    /**
     * Brings the view in line with the registry after the cluster connection came back: entries removed while the
     * router was disconnected sent no event.
     */
    public void reconcile(List<WorkerRegistration> current) {
        Set<String> ids = new HashSet<>();
        for (WorkerRegistration r : current) {
            ids.add(r.workerId());
            upserted(r);
        }
        for (String id : List.copyOf(workers.keySet())) {
            if (!ids.contains(id)) {
                removed(id, "not in the registry after reconnecting");
            }
        }
        if (control != null) {
            Set<String> flags = new HashSet<>();
            for (String key : control.keySet()) {
                if (key.startsWith(ClusterMaps.DRAIN_PREFIX)) {
                    flags.add(key.substring(ClusterMaps.DRAIN_PREFIX.length()));
                }
            }
            draining.retainAll(flags);
            draining.addAll(flags);
        }
    }

    @Override
    public void upserted(WorkerRegistration r) {
        if (closed) {
            return;
        }
        workers.compute(r.workerId(), (id, old) -> {
            if (old != null && !old.closed() && old.registration().address().equals(r.address())) {
                old.refresh(r);
                return old;
            }
            if (old != null) {
                log.info("worker.readdressed worker={} old={} new={}", id, old.registration().address(),
                        r.address());
                old.close("re-registered at " + r.address());
            }
            WorkerHandle h = new WorkerHandle(r, CircuitBreaker.of("worker-" + id, breakerConfig),
                    Bulkhead.of("worker-" + id, bulkheadConfig), timer, workerWindow, admitQueued, routerId,
                    breakerOpens::increment, credentials);
            h.watchHealth();
            log.info("worker.joined worker={} address={} capacity={} model={}", id, r.address(), r.capacity(),
                    r.modelId());
            return h;
        });
    }

    @Override
    public void removed(String workerId, String why) {
        WorkerHandle h = workers.remove(workerId);
        if (h != null) {
            log.info("worker.left worker={} reason=\"{}\" in_flight={}", workerId, why, h.inFlight());
            h.close(why);
        }
    }

    public WorkerHandle get(String workerId) {
        return workers.get(workerId);
    }

    /** Registered workers, by id. */
    public List<WorkerHandle> all() {
        List<WorkerHandle> list = new ArrayList<>(workers.values());
        list.sort(Comparator.comparing(WorkerHandle::id));
        return list;
    }

    public int size() {
        return workers.size();
    }

    /** Breaker openings over all workers since the router started, departed workers included. */
    public long breakerOpens() {
        return breakerOpens.sum();
    }

    public boolean draining(String workerId) {
        return draining.contains(workerId);
    }

    /** The workers as placement sees them, now. */
    public List<WorkerView> views() {
        List<WorkerView> views = new ArrayList<>(workers.size());
        for (WorkerHandle h : workers.values()) {
            views.add(view(h));
        }
        return views;
    }

    WorkerView view(WorkerHandle h) {
        CircuitBreaker.State s = h.breaker().getState();
        boolean open = s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN;
        return new WorkerView(h.id(), h.health() == WorkerHandle.Health.SERVING && !h.closed(),
                draining.contains(h.id()), open, h.inFlight(), h.registration().registeredAtMs(), h.admissionLimit(),
                h.othersInFlight());
    }

    /** Sets or clears a worker's drain flag in the cluster (shared by every router), with the store's deadline. */
    public void setDraining(String workerId, boolean drain, String by) throws Exception {
        String key = ClusterMaps.DRAIN_PREFIX + workerId;
        if (drain) {
            control.setAsync(key, by + " at " + java.time.Instant.now()).toCompletableFuture()
                    .get(storeTimeout.toMillis(), TimeUnit.MILLISECONDS);
            draining.add(workerId);
        } else {
            control.deleteAsync(key).toCompletableFuture().get(storeTimeout.toMillis(), TimeUnit.MILLISECONDS);
            draining.remove(workerId);
        }
        log.info("worker.{} worker={} by={}", drain ? "drain" : "undrain", workerId, by);
    }

    @Override
    public void close() {
        closed = true;
        if (control != null && drainListener != null) {
            try {
                control.removeEntryListener(drainListener);
            } catch (RuntimeException ignored) {
                // the client is stopping
            }
        }
        for (String id : List.copyOf(workers.keySet())) {
            WorkerHandle h = workers.remove(id);
            if (h != null) {
                h.close("router stopping");
            }
        }
    }

    /** Drain flags set or cleared by any router. */
    private final class DrainListener implements EntryAddedListener<String, String>,
            EntryUpdatedListener<String, String>, EntryRemovedListener<String, String> {
        @Override
        public void entryAdded(EntryEvent<String, String> e) {
            if (e.getKey().startsWith(ClusterMaps.DRAIN_PREFIX)) {
                draining.add(e.getKey().substring(ClusterMaps.DRAIN_PREFIX.length()));
            }
        }

        @Override
        public void entryUpdated(EntryEvent<String, String> e) {
            entryAdded(e);
        }

        @Override
        public void entryRemoved(EntryEvent<String, String> e) {
            if (e.getKey().startsWith(ClusterMaps.DRAIN_PREFIX)) {
                draining.remove(e.getKey().substring(ClusterMaps.DRAIN_PREFIX.length()));
            }
        }
    }
}

package dev.warmroute.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker registry: workers put their {@link WorkerRegistration} into {@link ClusterMaps#WORKERS} with a
 * time-to-live and refresh it by heartbeat; routers read and follow it.
 *
 * <p>Two ways a worker disappears, both reported to listeners: its Hazelcast member leaves (immediate: a killed
 * process is noticed through refused connections within a second; a hung one after the member heartbeat timeout),
 * or its entry expires because heartbeats stopped (workers that are Hazelcast clients). A graceful stop removes the
 * entry.
 *
 * <p>For a worker that is a member, the member is authoritative and an expired entry whose member is still in the
 * cluster is not a departure: it means the refresh could not be written in time, which happens to healthy workers
 * whenever the member owning the registry entry's partition hangs (a frozen process): the refresh blocks until that
 * member is removed and the backup promoted, by which time the entry's time-to-live has run out. The worker's next
 * heartbeat writes it again.
 */
public final class WorkerRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);

    /** Registry changes as a router sees them. */
    public interface Listener {
        /** A worker registered or refreshed its registration. */
        void upserted(WorkerRegistration registration);

        /** A worker left: its entry was removed or expired, or its member left the cluster. */
        void removed(String workerId, String why);
    }

    /**
     * How often a worker looks at its load and, when it changed, writes its registration again
     * ({@link #reportLoad}): the other routers' turns a router adds to its own are at most this old. Each write is
     * one map put and one entry event per router, and it happens only when the load changed.
     */
    public static final Duration LOAD_REPORT_INTERVAL = Duration.ofMillis(50);

    private final HazelcastInstance hz;
    private final IMap<String, WorkerRegistration> map;
    private final Duration callTimeout;
    private ScheduledExecutorService heartbeats;
    private volatile WorkerRegistration own;
    private volatile java.util.function.Supplier<Map<String, Integer>> load;
    private Duration ttl;
    private final List<UUID> listenerIds = new ArrayList<>();
    private final Map<String, WorkerRegistration> known = new ConcurrentHashMap<>();
    private UUID membershipListenerId;

    public WorkerRegistry(HazelcastInstance hz, Duration callTimeout) {
        this.hz = hz;
        this.map = hz.getMap(ClusterMaps.WORKERS);
        this.callTimeout = callTimeout;
    }

    /**
     * Registers this worker and keeps the registration alive: refreshed every {@code interval}, expiring after
     * {@code ttl} without refresh. A failed refresh is logged and retried at the next tick.
     */
    public void register(WorkerRegistration registration, Duration interval, Duration ttl) {
        if (ttl.compareTo(interval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("registry ttl must be at least twice the heartbeat interval");
        }
        this.ttl = ttl;
        own = registration;
        put(registration, ttl);
        heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registry-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeats.scheduleWithFixedDelay(() -> {
            WorkerRegistration r = own;
            if (r == null) {
                return;
            }
            if (!hz.getLifecycleService().isRunning()) {
                heartbeats.shutdown();
                return;
            }
            try {
                var l = load;
                long now = System.currentTimeMillis();
                own = l == null ? r.withHeartbeat(now) : r.withLoad(l.get(), now);
                put(own, ttl);
            } catch (RuntimeException e) {
                log.warn("registry.heartbeat-failed worker={} error={}", r.workerId(), e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("registry.registered worker={} address={} capacity={} model={}", registration.workerId(),
                registration.address(), registration.capacity(), registration.modelId());
    }

    /**
     * Publishes this worker's turns in flight per router with its registration: with every heartbeat, and every
     * {@link #LOAD_REPORT_INTERVAL} when they changed. Routers add the other routers' turns to their own when they
     * bound the worker by its capacity. Call after {@link #register}.
     */
    public void reportLoad(java.util.function.Supplier<Map<String, Integer>> turnsPerRouter) {
        this.load = turnsPerRouter;
        long ms = LOAD_REPORT_INTERVAL.toMillis();
        heartbeats.scheduleWithFixedDelay(() -> {
            WorkerRegistration r = own;
            if (r == null || !hz.getLifecycleService().isRunning()) {
                return;
            }
            Map<String, Integer> now = turnsPerRouter.get();
            if (now.equals(r.load())) {
                return;
            }
            try {
                own = r.withLoad(now, System.currentTimeMillis());
                put(own, ttl);
            } catch (RuntimeException e) {
                log.debug("registry.load-report-failed worker={} error={}", r.workerId(), e.toString());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Removes this worker's registration (graceful stop): routers stop sending it turns at once. */
    public void deregister() {
        WorkerRegistration r = own;
        own = null;
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        if (r != null) {
            try {
                map.removeAsync(r.workerId()).toCompletableFuture()
                        .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
                log.info("registry.deregistered worker={}", r.workerId());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("registry.deregister-failed worker={} error={}", r.workerId(), e.toString());
            }
        }
    }

    /** Every registration currently in the map. */
    public List<WorkerRegistration> list() {
        return new ArrayList<>(map.values());
    }

    /**
     * Follows the registry: the listener first receives every current registration, then changes as they happen.
     * Registrations whose Hazelcast member has already left are reported as removed.
     */
    public void follow(Listener listener) {
        // Events are applied to a local view first, so that a member leaving can be resolved to its workers
        // without a remote call on Hazelcast's event thread.
        Listener tracking = new Listener() {
            @Override
            public void upserted(WorkerRegistration registration) {
                known.put(registration.workerId(), registration);
                listener.upserted(registration);
            }

            @Override
            public void removed(String workerId, String why) {
                if (known.remove(workerId) != null) {
                    listener.removed(workerId, why);
                }
            }
        };
        java.util.function.Predicate<String> memberAlive = workerId -> {
            WorkerRegistration r = known.get(workerId);
            if (r == null || r.memberUuid().isEmpty()) {
                return false;
            }
            return hz.getCluster().getMembers().stream().anyMatch(m -> m.getUuid().toString().equals(r.memberUuid()));
        };
        listenerIds.add(map.addEntryListener(new EntryListenerAdapter(tracking, memberAlive), true));
        membershipListenerId = hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {}

            @Override
            public void memberRemoved(MembershipEvent event) {
                String uuid = event.getMember().getUuid().toString();
                for (WorkerRegistration r : List.copyOf(known.values())) {
                    if (uuid.equals(r.memberUuid())) {
                        tracking.removed(r.workerId(), "member left the cluster");
                        // The entry of a killed member stays until its TTL; drop it so no router reads it again.
                        map.removeAsync(r.workerId());
                    }
                }
            }
        });
        var liveMembers = hz.getCluster().getMembers().stream().map(m -> m.getUuid().toString()).toList();
        for (WorkerRegistration r : map.values()) {
            if (r.memberUuid().isEmpty() || liveMembers.contains(r.memberUuid())) {
                tracking.upserted(r);
            }
        }
    }

    private void put(WorkerRegistration r, Duration ttl) {
        try {
            map.putAsync(r.workerId(), r, ttl.toMillis(), TimeUnit.MILLISECONDS).toCompletableFuture()
                    .get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while registering " + r.workerId(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("registry write for " + r.workerId() + " failed: " + e, e);
        }
    }

    @Override
    public void close() {
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        for (UUID id : listenerIds) {
            try {
                map.removeEntryListener(id);
            } catch (RuntimeException ignored) {
                // the instance is shutting down
            }
        }
        if (membershipListenerId != null) {
            try {
                hz.getCluster().removeMembershipListener(membershipListenerId);
            } catch (RuntimeException ignored) {
                // the instance is shutting down
            }
        }
    }

    private record EntryListenerAdapter(Listener listener, java.util.function.Predicate<String> memberAlive)
            implements EntryAddedListener<String, WorkerRegistration>,
                    EntryUpdatedListener<String, WorkerRegistration>,
                    EntryRemovedListener<String, WorkerRegistration>,
                    EntryExpiredListener<String, WorkerRegistration> {
        @Override
        public void entryAdded(EntryEvent<String, WorkerRegistration> e) {
            listener.upserted(e.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, WorkerRegistration> e) {
            listener.upserted(e.getValue());
        }

        @Override
        public void entryRemoved(EntryEvent<String, WorkerRegistration> e) {
            listener.removed(e.getKey(), "deregistered");
        }

        @Override
        public void entryExpired(EntryEvent<String, WorkerRegistration> e) {
            if (memberAlive.test(e.getKey())) {
                log.warn("registry.expired-member-alive worker={}: its registration expired but its member is in the"
                        + " cluster (a refresh was blocked, e.g. by a hung partition owner); kept", e.getKey());
                return;
            }
            listener.removed(e.getKey(), "heartbeats stopped (registration expired)");
        }
    }
}

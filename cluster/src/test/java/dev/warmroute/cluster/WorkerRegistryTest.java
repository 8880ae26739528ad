package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real Hazelcast members and a real client on 127.0.0.1. */
class WorkerRegistryTest {

    private final List<HazelcastInstance> instances = new ArrayList<>();

    @AfterEach
    void shutdown() {
        instances.forEach(i -> {
            try {
                i.getLifecycleService().terminate();
            } catch (RuntimeException ignored) {
                // already down
            }
        });
    }

    /** host:port of a member, for the seeds of the next one (every member starts on port 0). */
    static String address(HazelcastInstance member) {
        var a = member.getCluster().getLocalMember().getAddress();
        return a.getHost() + ":" + a.getPort();
    }

    private HazelcastInstance member(String cluster, int port, List<String> seeds) {
        HazelcastSettings settings = HazelcastSettings.builder().clusterName(cluster).port(port).members(seeds)
                .build();
        HazelcastInstance hz = HazelcastFactory.startMember(settings, Map.of(),
                List.of(new WorkerRegistration.Serializer()));
        instances.add(hz);
        return hz;
    }

    private HazelcastInstance client(String cluster, List<String> seeds) {
        HazelcastSettings settings = HazelcastSettings.builder().clusterName(cluster).members(seeds)
                .mode(HazelcastSettings.Mode.CLIENT).build();
        HazelcastInstance hz = HazelcastFactory.startClient(settings, "test-router-" + cluster,
                List.of(new WorkerRegistration.Serializer()));
        instances.add(hz);
        try {
            assertTrue(HazelcastFactory.awaitConnected(hz, Duration.ofSeconds(20)), "client did not connect");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return hz;
    }

    record Event(String kind, String workerId, String why) {}

    static WorkerRegistry.Listener recorder(BlockingQueue<Event> events) {
        return new WorkerRegistry.Listener() {
            @Override
            public void upserted(WorkerRegistration r) {
                events.add(new Event("up", r.workerId(), ""));
            }

            @Override
            public void removed(String workerId, String why) {
                events.add(new Event("down", workerId, why));
            }
        };
    }

    static Event next(BlockingQueue<Event> events, String kind, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Event e = events.poll(50, TimeUnit.MILLISECONDS);
            if (e != null && e.kind().equals(kind)) {
                return e;
            }
        }
        throw new AssertionError("no '" + kind + "' event within " + within);
    }

    @Test
    void routerSeesAWorkerRegisterAndLeaveAtOnceWhenItsMemberDies() throws Exception {
        String cluster = "reg-" + System.nanoTime();
        HazelcastInstance a = member(cluster, 0, List.of());
        HazelcastInstance b = member(cluster, 0, List.of(address(a)));
        HazelcastInstance router = client(cluster, List.of(address(a), address(b)));
        assertTrue(waitFor(() -> a.getCluster().getMembers().size() == 2, Duration.ofSeconds(20)));

        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        WorkerRegistry followed = new WorkerRegistry(router, Duration.ofSeconds(5));
        followed.follow(recorder(events));

        WorkerRegistry workerSide = new WorkerRegistry(b, Duration.ofSeconds(5));
        long now = System.currentTimeMillis();
        workerSide.register(new WorkerRegistration("w-b", "127.0.0.1:7101", 2, "model-x",
                b.getCluster().getLocalMember().getUuid().toString(), now, now),
                Duration.ofMillis(500), Duration.ofSeconds(30));
        assertEquals("w-b", next(events, "up", Duration.ofSeconds(5)).workerId());

        long killedAt = System.nanoTime();
        b.getLifecycleService().terminate(); // like kill -9: no goodbye, no deregistration
        Event down = next(events, "down", Duration.ofSeconds(10));
        long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
        assertEquals("w-b", down.workerId());
        assertEquals("member left the cluster", down.why());
        // The registration's own TTL is 30 s: the reason shows that the member event, not expiry, removed it (how
        // long it took is a figure for the log, not an assertion: a loaded machine may take longer).
        System.out.println("worker removed " + tookMs + " ms after its member died");
        followed.close();
    }

    @Test
    void aGracefulStopDeregistersAndStoppedHeartbeatsExpire() throws Exception {
        String cluster = "reg2-" + System.nanoTime();
        HazelcastInstance a = member(cluster, 0, List.of());
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        WorkerRegistry followed = new WorkerRegistry(a, Duration.ofSeconds(5));
        followed.follow(recorder(events));

        WorkerRegistry graceful = new WorkerRegistry(a, Duration.ofSeconds(5));
        long now = System.currentTimeMillis();
        graceful.register(new WorkerRegistration("w-graceful", "127.0.0.1:7102", 1, "m", "", now, now),
                Duration.ofMillis(200), Duration.ofSeconds(10));
        next(events, "up", Duration.ofSeconds(5));
        graceful.deregister();
        assertEquals("deregistered", next(events, "down", Duration.ofSeconds(5)).why());

        WorkerRegistry silent = new WorkerRegistry(a, Duration.ofSeconds(5));
        silent.register(new WorkerRegistration("w-silent", "127.0.0.1:7103", 1, "m", "", now, now),
                Duration.ofMillis(500), Duration.ofSeconds(2));
        next(events, "up", Duration.ofSeconds(5));
        silent.close(); // heartbeats stop, the entry stays until its time-to-live
        Event expired = next(events, "down", Duration.ofSeconds(15));
        assertEquals("w-silent", expired.workerId());
        assertTrue(expired.why().contains("expired"), expired.why());
        followed.close();
    }

    /**
     * A healthy worker's refresh can be blocked while the member owning its entry's partition hangs; the entry then
     * expires although the worker's member never left. That must not remove the worker (the router would abandon its
     * running turns); its member leaving still does.
     */
    @Test
    void anExpiredRegistrationOfAMemberStillInTheClusterIsNotADeparture() throws Exception {
        String cluster = "reg3-" + System.nanoTime();
        HazelcastInstance a = member(cluster, 0, List.of());
        HazelcastInstance b = member(cluster, 0, List.of(address(a)));
        HazelcastInstance router = client(cluster, List.of(address(a)));
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        WorkerRegistry followed = new WorkerRegistry(router, Duration.ofSeconds(5));
        followed.follow(recorder(events));

        WorkerRegistry worker = new WorkerRegistry(b, Duration.ofSeconds(5));
        long now = System.currentTimeMillis();
        String uuid = b.getCluster().getLocalMember().getUuid().toString();
        worker.register(new WorkerRegistration("w-b", "127.0.0.1:7104", 1, "m", uuid, now, now),
                Duration.ofMillis(200), Duration.ofSeconds(1));
        next(events, "up", Duration.ofSeconds(5));
        worker.close(); // refreshes stop while the member stays: as if every refresh were blocked
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (a.getMap(ClusterMaps.WORKERS).containsKey("w-b") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(!a.getMap(ClusterMaps.WORKERS).containsKey("w-b"), "the registration expired");
        assertTrue(events.stream().noneMatch(e -> e.kind().equals("down")), "removed although alive: " + events);

        // The first "down" must be the member's departure: a wrong one caused by the expiry (its event is
        // asynchronous) would have been queued before it, and next() returns the first.
        b.getLifecycleService().terminate();
        Event left = next(events, "down", Duration.ofSeconds(20));
        assertEquals("w-b", left.workerId());
        assertEquals("member left the cluster", left.why(), "removed although alive: " + left);
        followed.close();
    }

    @Test
    void invalidSettingsNameTheField() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HazelcastSettings.builder().members(List.of("localhost")).build());
        assertTrue(e.getMessage().startsWith("hazelcast member: expected host:port"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HazelcastSettings.builder().heartbeat(Duration.ofSeconds(3))
                        .maxNoHeartbeat(Duration.ofSeconds(5)).build());
        assertTrue(e.getMessage().contains("at least twice"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HazelcastSettings.builder().mode(HazelcastSettings.Mode.CLIENT).build());
        assertTrue(e.getMessage().startsWith("members:"), e.getMessage());
    }

    static boolean waitFor(java.util.function.BooleanSupplier condition, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }
}

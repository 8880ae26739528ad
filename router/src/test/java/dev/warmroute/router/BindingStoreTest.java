package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.cluster.ClusterSafety;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import java.time.Duration;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two routers (two real Hazelcast clients) against one real member: the compare-and-set makes them agree. */
class BindingStoreTest {

    private static HazelcastInstance member;
    private static HazelcastInstance clientA;
    private static HazelcastInstance clientB;
    private static BindingStore routerA;
    private static BindingStore routerB;

    @BeforeAll
    static void cluster() throws Exception {
        String name = "bind-" + UUID.randomUUID().toString().substring(0, 8);
        member = HazelcastFactory.startMember(HazelcastSettings.builder().clusterName(name).port(0).build(), Map.of(),
                List.of());
        String address = "127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort();
        HazelcastSettings client = HazelcastSettings.builder().clusterName(name).members(List.of(address))
                .mode(HazelcastSettings.Mode.CLIENT).build();
        clientA = client(client, "a");
        clientB = client(client, "b");
        routerA = new BindingStore(clientA, Duration.ofSeconds(10), () -> "router-a");
        routerB = new BindingStore(clientB, Duration.ofSeconds(10), () -> "router-b");
    }

    private static HazelcastInstance client(HazelcastSettings s, String name) throws InterruptedException {
        var config = HazelcastFactory.clientConfig(s, "test-router-" + name + "-" + UUID.randomUUID(),
                List.of(new Binding.Serializer()));
        config.addNearCacheConfig(new com.hazelcast.config.NearCacheConfig(dev.warmroute.cluster.ClusterMaps.BINDINGS)
                .setInvalidateOnChange(true));
        HazelcastInstance hz = HazelcastClient.newHazelcastClient(config);
        assertTrue(HazelcastFactory.awaitConnected(hz, Duration.ofSeconds(60)));
        return hz;
    }

    @AfterAll
    static void stop() {
        for (HazelcastInstance hz : new HazelcastInstance[] {clientA, clientB, member}) {
            if (hz != null) {
                hz.shutdown();
            }
        }
    }

    @Test
    void twoRoutersRacingToBindNewSessionsAgreeOnOneWorker() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 100; i++) {
                String s = "race-" + i;
                CyclicBarrier go = new CyclicBarrier(2);
                // The two routers see different workers as best (say, different load): each proposes its own.
                Future<Binding> a = pool.submit(racer(go, () -> routerA.bind(s, null, "w1")));
                Future<Binding> b = pool.submit(racer(go, () -> routerB.bind(s, null, "w2")));
                Binding ba = a.get(30, TimeUnit.SECONDS);
                Binding bb = b.get(30, TimeUnit.SECONDS);
                assertEquals(ba.workerId(), bb.workerId(), s);
                assertEquals(1, ba.epoch());
                assertEquals(ba, bb);
                assertEquals(ba, routerA.get(s));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aMoveRaisesTheEpochByOneAndOnlyOneRouterWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 50; i++) {
                String s = "move-" + i;
                Binding first = routerA.bind(s, null, "w1");
                Binding seenByB = routerB.get(s);
                assertEquals(first, seenByB);
                CyclicBarrier go = new CyclicBarrier(2);
                Future<Binding> a = pool.submit(racer(go, () -> routerA.bind(s, first, "w2")));
                Future<Binding> b = pool.submit(racer(go, () -> routerB.bind(s, seenByB, "w3")));
                Binding ba = a.get(30, TimeUnit.SECONDS);
                Binding bb = b.get(30, TimeUnit.SECONDS);
                assertEquals(ba, bb, "both routers must end with the same binding");
                assertEquals(2, ba.epoch(), "one move, one epoch");
                assertTrue(ba.workerId().equals("w2") || ba.workerId().equals("w3"));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anotherRoutersNearCacheLearnsOfAMoveQuickly() throws Exception {
        String s = "near-" + UUID.randomUUID();
        Binding first = routerA.bind(s, null, "w1");
        assertEquals(first, routerB.get(s)); // now in B's near cache
        Binding moved = routerA.bind(s, first, "w2");
        assertEquals(2, moved.epoch());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Binding seen = routerB.get(s);
        while (!moved.equals(seen) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            seen = routerB.get(s);
        }
        assertEquals(moved, seen, "router B still reads the old binding from its near cache");
    }

    @Test
    void theOwnersCopyShowsAnotherRoutersMoveAtOnce() throws Exception {
        String s = "fresh-" + UUID.randomUUID();
        Binding first = routerA.bind(s, null, "w1");
        assertEquals(first, routerB.get(s)); // in B's near cache now
        Binding moved = routerA.bind(s, first, "w2");
        assertEquals(moved, routerB.getFresh(s), "read from the partition owner, not the near cache");
        assertNull(routerB.getFresh("no-such-" + UUID.randomUUID()));
    }

    @Test
    void aBindingKeepsWhyItWasMadeAndItsHorizonAcrossRouters() throws Exception {
        String s = "kind-" + UUID.randomUUID();
        Binding first = routerA.bind(s, null, "w1", Binding.Kind.PREFERRED, 1234);
        Binding seen = routerB.getFresh(s);
        assertEquals(Binding.Kind.PREFERRED, seen.kind());
        assertEquals(1234, seen.horizonMs());
        assertEquals(first, seen);
        Binding moved = routerB.bind(s, seen, "w2", Binding.Kind.FALLBACK, 5678);
        assertEquals(new Binding("w2", 2, moved.boundAtMs(), moved.routerId(), Binding.Kind.FALLBACK, 5678),
                routerA.getFresh(s));
    }

    @Test
    void removingABindingAndCountingPerWorker() throws Exception {
        String w = "count-" + UUID.randomUUID();
        for (int i = 0; i < 7; i++) {
            routerA.bind(w + "-s" + i, null, w);
        }
        assertEquals(7, routerB.countBoundTo(w));
        routerB.remove(w + "-s0");
        assertNull(routerA.get(w + "-s0"));
        assertEquals(6, routerA.countBoundTo(w));
    }

    @Test
    void aClientLearnsWhetherTheClusterIsSafeFromAMember() throws Exception {
        Boolean safe = clientA.getExecutorService(ClusterSafety.EXECUTOR).submit(new ClusterSafety())
                .get(30, TimeUnit.SECONDS);
        assertTrue(safe, "a single idle member is safe");
    }

    private static <T> Callable<T> racer(CyclicBarrier go, Callable<T> body) {
        return () -> {
            go.await(10, TimeUnit.SECONDS);
            return body.call();
        };
    }

}

package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cluster.HazelcastSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RouterOptionsTest {

    private static RouterConfig parse(String... args) {
        RouterOptions options = new RouterRole().newOptions();
        new CommandLine(options).parseArgs(args);
        return options.toConfig();
    }

    @Test
    void defaultsWorkOnALaptop() {
        RouterConfig c = parse();
        assertEquals("127.0.0.1", c.host());
        assertEquals(7000, c.port());
        assertEquals(HazelcastSettings.Mode.CLIENT, c.hazelcast().mode());
        assertEquals(List.of("127.0.0.1:5701"), c.hazelcast().members());
        assertEquals(1.25, c.loadBound());
        assertEquals(3, c.maxAttempts());
        assertEquals(RouterConfig.BreakerSettings.defaults(), c.breaker());
        assertEquals(1024 * 1024, c.workerWindow());
        assertEquals(Duration.ofSeconds(20), c.shutdownGrace());
        assertEquals(PlacementMode.HYBRID, c.placement());
        assertTrue(c.rebalance());
        assertEquals(20, c.rebalanceRate());
    }

    @Test
    void placementModeAndRebalancingFlags() {
        RouterConfig c = parse("--placement", "round-robin", "--rebalance", "false", "--rebalance-rate", "2.5");
        assertEquals(PlacementMode.ROUND_ROBIN, c.placement());
        assertEquals(false, c.rebalance());
        assertEquals(2.5, c.rebalanceRate());
        assertEquals(PlacementMode.HASH, parse("--placement", "hash").placement());
    }

    @Test
    void kubernetesDiscoveryFindsMembersThroughTheServiceAndIgnoresTheDefaultSeeds() {
        RouterConfig c = parse("--discovery", "kubernetes", "--kubernetes-service-dns",
                "warmroute-workers.prod.svc.cluster.local");
        assertEquals(HazelcastSettings.Discovery.KUBERNETES, c.hazelcast().discovery());
        assertEquals("warmroute-workers.prod.svc.cluster.local", c.hazelcast().kubernetes().serviceDns());
        assertEquals(List.of(), c.hazelcast().members());
        assertEquals(HazelcastSettings.Discovery.TCP_IP, parse().hazelcast().discovery());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("--kubernetes-service-dns", "warmroute-workers"));
        assertTrue(e.getMessage().contains("--discovery kubernetes"), e.getMessage());
    }

    @Test
    void flagsFillTheTypedConfig() {
        RouterConfig c = parse("--port", "0", "--router-id", "r-1", "--members", "10.0.0.1:5701, 10.0.0.2:5701",
                "--cluster-name", "prod", "--load-bound", "1.5", "--max-attempts", "2", "--breaker-window", "20",
                "--breaker-failure-rate", "25", "--breaker-min-calls", "5", "--breaker-open-ms", "1500",
                "--breaker-half-open-calls", "3", "--bulkhead", "8", "--worker-window-kb", "64");
        assertEquals(0, c.port());
        assertEquals("r-1", c.routerId());
        assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701"), c.hazelcast().members());
        assertEquals("prod", c.hazelcast().clusterName());
        assertEquals(1.5, c.loadBound());
        assertEquals(2, c.maxAttempts());
        assertEquals(new RouterConfig.BreakerSettings(20, 25f, 5, Duration.ofMillis(1500), 3), c.breaker());
        assertEquals(8, c.bulkhead());
        assertEquals(64 * 1024, c.workerWindow());
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() {
        assertMessageStartsWith("load-bound:", "--load-bound", "0.9");
        assertMessageStartsWith("max-attempts:", "--max-attempts", "0");
        assertMessageStartsWith("breaker-min-calls:", "--breaker-window", "4", "--breaker-min-calls", "5");
        assertMessageStartsWith("breaker-failure-rate:", "--breaker-failure-rate", "0");
        assertMessageStartsWith("members:", "--members", "");
        assertMessageStartsWith("router-id:", "--router-id", "has space");
        assertMessageStartsWith("worker-window-kb:", "--worker-window-kb", "0");
        assertMessageStartsWith("placement:", "--placement", "sticky");
        assertMessageStartsWith("rebalance-rate:", "--rebalance-rate", "0");
    }

    private static void assertMessageStartsWith(String prefix, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(args));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}

package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Discovery modes: TCP-IP stays the default, Kubernetes discovery is Hazelcast's own {@code join.kubernetes}. The DNS
 * mode is exercised for real with {@code localhost} as the "headless service": it resolves to 127.0.0.1, where the
 * first member listens, exactly as a service name resolves to the pods' IPs in a cluster.
 */
class HazelcastDiscoveryTest {

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

    @Test
    void tcpIpIsTheDefaultAndKubernetesStaysOff() {
        Config config = HazelcastFactory.memberConfig(HazelcastSettings.builder().members(List.of("10.0.0.5:5701"))
                .build(), Map.of(), List.of());
        JoinConfig join = config.getNetworkConfig().getJoin();
        assertTrue(join.getTcpIpConfig().isEnabled());
        assertEquals(List.of("10.0.0.5:5701"), join.getTcpIpConfig().getMembers());
        assertFalse(join.getKubernetesConfig().isEnabled());
        assertFalse(join.getMulticastConfig().isEnabled());
        assertTrue(config.getNetworkConfig().getInterfaces().isEnabled());
        assertEquals("127.0.0.1:5701", config.getNetworkConfig().getPublicAddress());
    }

    @Test
    void kubernetesDnsModeReplacesTcpIpAndUsesTheMemberPort() {
        HazelcastSettings s = HazelcastSettings.builder().host("0.0.0.0").port(5701)
                .kubernetesDiscovery(HazelcastSettings.Kubernetes.dns("warmroute-workers.prod.svc.cluster.local"))
                .build();
        JoinConfig join = HazelcastFactory.memberConfig(s, Map.of(), List.of()).getNetworkConfig().getJoin();
        assertFalse(join.getTcpIpConfig().isEnabled());
        assertTrue(join.getKubernetesConfig().isEnabled());
        assertEquals("warmroute-workers.prod.svc.cluster.local", join.getKubernetesConfig().getProperty("service-dns"));
        assertEquals("5701", join.getKubernetesConfig().getProperty("service-port"));
    }

    @Test
    void kubernetesApiModeNamesServiceAndNamespaceForClientsToo() {
        HazelcastSettings s = HazelcastSettings.builder().mode(HazelcastSettings.Mode.CLIENT)
                .kubernetesDiscovery(HazelcastSettings.Kubernetes.api("warmroute-workers", "chat")).build();
        ClientConfig client = HazelcastFactory.clientConfig(s, "router", List.of());
        assertTrue(client.getNetworkConfig().getKubernetesConfig().isEnabled());
        assertEquals("warmroute-workers", client.getNetworkConfig().getKubernetesConfig().getProperty("service-name"));
        assertEquals("chat", client.getNetworkConfig().getKubernetesConfig().getProperty("namespace"));
        assertEquals("5701", client.getNetworkConfig().getKubernetesConfig().getProperty("service-port"));
        assertTrue(client.getNetworkConfig().getAddresses().isEmpty());
    }

    @Test
    void wildcardHostLetsHazelcastPickTheAdvertisedAddressUnlessAPublicOneIsGiven() {
        Config any = HazelcastFactory.memberConfig(HazelcastSettings.builder().host("0.0.0.0").build(), Map.of(),
                List.of());
        assertFalse(any.getNetworkConfig().getInterfaces().isEnabled());
        assertEquals(null, any.getNetworkConfig().getPublicAddress());

        Config nat = HazelcastFactory.memberConfig(HazelcastSettings.builder().host("0.0.0.0")
                .publicAddress("worker-1.example:5701").build(), Map.of(), List.of());
        assertEquals("worker-1.example:5701", nat.getNetworkConfig().getPublicAddress());
    }

    @Test
    void refusesHalfConfiguredKubernetesDiscoveryNamingTheFlag() {
        IllegalArgumentException neither = assertThrows(IllegalArgumentException.class,
                () -> DiscoveryFlags.apply(HazelcastSettings.builder(), "kubernetes", "", "", "", 0).build());
        assertTrue(neither.getMessage().contains("kubernetes-service-dns"), neither.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> DiscoveryFlags.apply(HazelcastSettings.builder(), "kubernetes", "a.b", "a", "", 0).build());
        assertTrue(both.getMessage().contains("both"), both.getMessage());
        IllegalArgumentException withoutMode = assertThrows(IllegalArgumentException.class,
                () -> DiscoveryFlags.apply(HazelcastSettings.builder(), "tcp", "a.b", "", "", 0).build());
        assertTrue(withoutMode.getMessage().contains("--discovery kubernetes"), withoutMode.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> DiscoveryFlags.parse("multicast"));
        assertTrue(unknown.getMessage().startsWith("discovery:"), unknown.getMessage());
        IllegalArgumentException seeds = assertThrows(IllegalArgumentException.class,
                () -> DiscoveryFlags.apply(HazelcastSettings.builder().members(List.of("127.0.0.1:5701")),
                        "kubernetes", "svc.ns", "", "", 0).build());
        assertTrue(seeds.getMessage().startsWith("members:"), seeds.getMessage());
        IllegalArgumentException badName = assertThrows(IllegalArgumentException.class,
                () -> HazelcastSettings.Kubernetes.dns("not a name"));
        assertTrue(badName.getMessage().startsWith("kubernetes-service-dns:"), badName.getMessage());
    }

    @Test
    void membersAndClientsFindEachOtherThroughKubernetesDnsLookup() throws Exception {
        String cluster = "k8s-dns-" + ProcessHandle.current().pid();
        int port = freePort();
        // The first member looks itself up (the first pod of a StatefulSet finds only itself) and starts alone.
        HazelcastInstance first = start(HazelcastSettings.builder().clusterName(cluster).port(port)
                .kubernetesDiscovery(HazelcastSettings.Kubernetes.dns("localhost")).build());
        // The second one finds the first at the address the name resolves to, on the service port.
        HazelcastInstance second = start(HazelcastSettings.builder().clusterName(cluster).port(0)
                .kubernetesDiscovery(HazelcastSettings.Kubernetes.dns("localhost").withServicePort(port)).build());
        assertEquals(2, first.getCluster().getMembers().size());
        assertEquals(2, second.getCluster().getMembers().size());

        HazelcastSettings clientSettings = HazelcastSettings.builder().clusterName(cluster)
                .mode(HazelcastSettings.Mode.CLIENT)
                .kubernetesDiscovery(HazelcastSettings.Kubernetes.dns("localhost").withServicePort(port)).build();
        HazelcastInstance client = HazelcastFactory.startClient(clientSettings, "k8s-dns-client-" + cluster,
                List.of());
        instances.add(client);
        assertTrue(HazelcastFactory.awaitConnected(client, Duration.ofSeconds(30)), "client did not connect");
        client.getMap("probe").put("k", "v");
        assertEquals("v", second.getMap("probe").get("k"));
    }

    private HazelcastInstance start(HazelcastSettings settings) {
        HazelcastInstance hz = HazelcastFactory.startMember(settings, Map.of(), List.of());
        instances.add(hz);
        return hz;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

package dev.warmroute.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts embedded members and clients with warmroute's settings: one place for every Hazelcast knob we turn. */
public final class HazelcastFactory {

    private HazelcastFactory() {}

    /**
     * Starts an embedded data member.
     *
     * @param attributes  member attributes other members and clients can read (e.g. the worker's gRPC address)
     * @param serializers Compact serializers of the records this member stores or processes
     */
    public static HazelcastInstance startMember(HazelcastSettings settings, Map<String, String> attributes,
            List<CompactSerializer<?>> serializers) {
        return Hazelcast.newHazelcastInstance(memberConfig(settings, attributes, serializers));
    }

    /** Connects a client (routers, and workers in client mode). */
    public static HazelcastInstance startClient(HazelcastSettings settings, String instanceName,
            List<CompactSerializer<?>> serializers) {
        return HazelcastClient.newHazelcastClient(clientConfig(settings, instanceName, serializers));
    }

    /** Starts a member or a client as the settings' mode says. */
    public static HazelcastInstance start(HazelcastSettings settings, String instanceName,
            Map<String, String> attributes, List<CompactSerializer<?>> serializers) {
        return settings.mode() == HazelcastSettings.Mode.MEMBER
                ? startMember(settings, attributes, serializers)
                : startClient(settings, instanceName, serializers);
    }

    public static Config memberConfig(HazelcastSettings settings, Map<String, String> attributes,
            List<CompactSerializer<?>> serializers) {
        Config config = new Config();
        config.setClusterName(settings.clusterName());
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.heartbeat.interval.seconds", seconds(settings.heartbeat().toSeconds()));
        config.setProperty("hazelcast.max.no.heartbeat.seconds", seconds(settings.maxNoHeartbeat().toSeconds()));
        // A member stopped with SIGTERM migrates its partitions away before leaving, so no backup is lost.
        config.setProperty("hazelcast.shutdownhook.policy", "GRACEFUL");
        config.setProperty("hazelcast.graceful.shutdown.max.wait", "30");
        // A killed peer is noticed through refused connections; fail fast on them instead of retrying for seconds.
        config.setProperty("hazelcast.connection.monitor.interval", "100");
        config.setProperty("hazelcast.connection.monitor.max.faults", "2");
        // A write whose backup sits on a hung member waits this long (default 5 s) before it is acknowledged anyway.
        config.setProperty("hazelcast.operation.backup.timeout.millis",
                String.valueOf(Math.max(1000, settings.maxNoHeartbeat().toMillis() / 2)));
        // A member that was frozen and comes back merges after this delay (default 300 s).
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        config.setProperty("hazelcast.initial.min.cluster.size", "1");

        NetworkConfig network = config.getNetworkConfig();
        // Port 0 lets the OS pick (tests, several members on one machine); the bound port is then read from
        // the instance and published in the ready file.
        network.setPort(settings.port()).setPortAutoIncrement(false);
        if (settings.port() != 0) {
            network.setPublicAddress(settings.address());
        }
        network.getInterfaces().setEnabled(true).addInterface(settings.host());
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        List<String> seeds = new ArrayList<>(settings.members());
        if (seeds.isEmpty()) {
            seeds.add(settings.host());
        }
        join.getTcpIpConfig().setEnabled(true).setMembers(seeds).setConnectionTimeoutSeconds(2);

        attributes.forEach((k, v) -> config.getMemberAttributeConfig().setAttribute(k, v));
        serializers.forEach(s -> config.getSerializationConfig().getCompactSerializationConfig().addSerializer(s));
        ClusterMaps.configure(config, settings);
        return config;
    }

    public static ClientConfig clientConfig(HazelcastSettings settings, String instanceName,
            List<CompactSerializer<?>> serializers) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(settings.clusterName());
        config.setInstanceName(instanceName);
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.client.heartbeat.interval", String.valueOf(settings.heartbeat().toMillis()));
        config.setProperty("hazelcast.client.heartbeat.timeout", String.valueOf(settings.maxNoHeartbeat().toMillis()));
        config.getNetworkConfig().setAddresses(new ArrayList<>(settings.members()));
        config.getNetworkConfig().setConnectionTimeout(2000);
        // Start at once and keep retrying in the background (a router may start before any worker); until the
        // first connection, calls fail fast with HazelcastClientOfflineException, which callers map to UNAVAILABLE.
        config.getConnectionStrategyConfig().setAsyncStart(true)
                .setReconnectMode(com.hazelcast.client.config.ClientConnectionStrategyConfig.ReconnectMode.ASYNC);
        config.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setInitialBackoffMillis(200).setMaxBackoffMillis(2000).setClusterConnectTimeoutMillis(-1);
        serializers.forEach(s -> config.getSerializationConfig().getCompactSerializationConfig().addSerializer(s));
        return config;
    }

    /**
     * Waits until a client has connected to the cluster (members are connected once started). Returns false when
     * the wait ran out; callers report that as "cluster unreachable" rather than blocking without bound.
     */
    public static boolean awaitConnected(HazelcastInstance hz, java.time.Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                // The member list arrives a moment before the client counts as connected; only an operation
                // that goes through tells for sure.
                hz.getMap(ClusterMaps.CONTROL).containsKey("connection-probe");
                return true;
            } catch (com.hazelcast.client.HazelcastClientOfflineException e) {
                Thread.sleep(20);
            }
        }
        return false;
    }

    private static String seconds(long s) {
        return String.valueOf(Math.max(1, s));
    }
}

package dev.warmroute.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import dev.warmroute.cluster.store.SessionMapStore;
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
        return startMember(settings, attributes, serializers, null);
    }

    /**
     * Starts an embedded data member whose {@code sessions} map is written through to {@code store} (null: memory
     * only).
     */
    public static HazelcastInstance startMember(HazelcastSettings settings, Map<String, String> attributes,
            List<CompactSerializer<?>> serializers, SessionMapStore store) {
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(memberConfig(settings, attributes, serializers, store));
        warnIfPublic(hz);
        return hz;
    }

    /**
     * Hazelcast open source has neither TLS nor authentication: anyone who reaches a member's port reads and writes
     * every session. A member on an address outside the private ranges says so once, at start.
     */
    static void warnIfPublic(HazelcastInstance hz) {
        try {
            java.net.InetAddress a = hz.getCluster().getLocalMember().getAddress().getInetAddress();
            if (!isPrivate(a)) {
                org.slf4j.LoggerFactory.getLogger(HazelcastFactory.class).warn("hazelcast.public-address address={}:"
                        + " this member's port is reachable beyond a private network, and Hazelcast open source has no"
                        + " TLS or authentication; bind it to a private interface (--hazelcast-host) or firewall it"
                        + " (docs/security.md)", a.getHostAddress());
            }
        } catch (java.net.UnknownHostException | RuntimeException e) {
            // the address cannot be read: nothing to say
        }
    }

    /** Loopback, link-local, RFC 1918 (site-local), 100.64/10 (CGNAT) or IPv6 unique-local fc00::/7. */
    static boolean isPrivate(java.net.InetAddress a) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
        }
        return (b[0] & 0xfe) == 0xfc;
    }

    /** Connects a client (routers, and workers in client mode). */
    public static HazelcastInstance startClient(HazelcastSettings settings, String instanceName,
            List<CompactSerializer<?>> serializers) {
        return HazelcastClient.newHazelcastClient(clientConfig(settings, instanceName, serializers));
    }

    /** Starts a member or a client as the settings' mode says. */
    public static HazelcastInstance start(HazelcastSettings settings, String instanceName,
            Map<String, String> attributes, List<CompactSerializer<?>> serializers) {
        return start(settings, instanceName, attributes, serializers, null);
    }

    /** Starts a member (with {@code store} behind its sessions map) or a client (which ignores the store). */
    public static HazelcastInstance start(HazelcastSettings settings, String instanceName,
            Map<String, String> attributes, List<CompactSerializer<?>> serializers, SessionMapStore store) {
        return settings.mode() == HazelcastSettings.Mode.MEMBER
                ? startMember(settings, attributes, serializers, store)
                : startClient(settings, instanceName, serializers);
    }

    public static Config memberConfig(HazelcastSettings settings, Map<String, String> attributes,
            List<CompactSerializer<?>> serializers) {
        return memberConfig(settings, attributes, serializers, null);
    }

    public static Config memberConfig(HazelcastSettings settings, Map<String, String> attributes,
            List<CompactSerializer<?>> serializers, SessionMapStore store) {
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
        // A write whose backup sits on a hung member waits this long (default 5 s) for the backup's ack, and is then
        // acknowledged anyway, in one copy. With a store behind the sessions map that cannot make an acknowledged turn
        // single-copy: the write-through store() runs on the primary before it answers, so the database is the second
        // place. Hazelcast's fail.on.indeterminate.state would fail such writes instead, but it is cluster-wide and
        // also fails internal operations (an index or a proxy being set up during a migration), so it stays off; run
        // with a store (cluster up and the drills do) for "acknowledged = in two places".
        config.setProperty("hazelcast.operation.backup.timeout.millis",
                String.valueOf(Math.max(1000, settings.maxNoHeartbeat().toMillis() / 2)));
        // A member that was frozen and comes back merges after this delay (default 300 s).
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        // A member with seeds waits for a quorum of the configured cluster size before it serves, so one that cannot
        // reach its seeds does not form a cluster of its own (see HazelcastSettings.initialMinClusterSize).
        config.setProperty("hazelcast.initial.min.cluster.size", String.valueOf(settings.initialMinClusterSize()));
        // Routers keep a near cache of the bindings map. Members batch near-cache invalidations (up to 10 s by
        // default); a router must learn within milliseconds that another router moved a session, so send each
        // invalidation at once (bindings change only when a session moves: the extra events are few).
        config.setProperty("hazelcast.map.invalidation.batch.enabled", "false");

        NetworkConfig network = config.getNetworkConfig();
        // Port 0 lets the OS pick (tests, several members on one machine); the bound port is then read from
        // the instance and published in the ready file.
        network.setPort(settings.port()).setPortAutoIncrement(false);
        if (!settings.publicAddress().isEmpty()) {
            network.setPublicAddress(settings.publicAddress());
        } else if (settings.port() != 0 && !settings.bindsAnyAddress()) {
            network.setPublicAddress(settings.address());
        }
        // A wildcard host (containers, pods) leaves the choice to Hazelcast: it binds every interface and advertises
        // the first non-loopback address, which is the container's or pod's own IP.
        if (!settings.bindsAnyAddress()) {
            network.getInterfaces().setEnabled(true).addInterface(settings.host());
        }
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (settings.discovery() == HazelcastSettings.Discovery.KUBERNETES) {
            join.getTcpIpConfig().setEnabled(false);
            applyKubernetes(join.getKubernetesConfig(), settings);
        } else {
            List<String> seeds = new ArrayList<>(settings.members());
            if (seeds.isEmpty()) {
                seeds.add(settings.bindsAnyAddress() ? "127.0.0.1" : settings.host());
            }
            join.getTcpIpConfig().setEnabled(true).setMembers(seeds).setConnectionTimeoutSeconds(2);
        }

        attributes.forEach((k, v) -> config.getMemberAttributeConfig().setAttribute(k, v));
        serializers.forEach(s -> config.getSerializationConfig().getCompactSerializationConfig().addSerializer(s));
        // Tasks that clients (routers) run on members: members must be able to read them.
        config.getSerializationConfig().getCompactSerializationConfig()
                .addSerializer(new ClusterSafety.Serializer());
        ClusterMaps.configure(config, settings, store);
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
        if (settings.discovery() == HazelcastSettings.Discovery.KUBERNETES) {
            applyKubernetes(config.getNetworkConfig().getKubernetesConfig(), settings);
        } else {
            config.getNetworkConfig().setAddresses(new ArrayList<>(settings.members()));
        }
        config.getNetworkConfig().setConnectionTimeout(2000);
        // Start at once and keep retrying in the background (a router may start before any worker); until the
        // first connection, calls fail fast with HazelcastClientOfflineException, which callers map to UNAVAILABLE.
        config.getConnectionStrategyConfig().setAsyncStart(true)
                .setReconnectMode(com.hazelcast.client.config.ClientConnectionStrategyConfig.ReconnectMode.ASYNC);
        config.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setInitialBackoffMillis(200).setMaxBackoffMillis(2000).setClusterConnectTimeoutMillis(-1);
        serializers.forEach(s -> config.getSerializationConfig().getCompactSerializationConfig().addSerializer(s));
        config.getSerializationConfig().getCompactSerializationConfig()
                .addSerializer(new ClusterSafety.Serializer());
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

    /**
     * Hazelcast's built-in Kubernetes discovery (no plugin needed in 5.x). DNS mode resolves the headless service to
     * the pods' IPs on every join attempt; API mode reads the service's endpoints. Members and clients use the same
     * lookup, so a router finds the workers exactly as they find each other.
     */
    private static void applyKubernetes(com.hazelcast.config.KubernetesConfig k8s, HazelcastSettings settings) {
        HazelcastSettings.Kubernetes where = settings.kubernetes();
        int servicePort = where.servicePort() != 0 ? where.servicePort()
                : settings.mode() == HazelcastSettings.Mode.MEMBER && settings.port() != 0 ? settings.port() : 5701;
        k8s.setEnabled(true).setProperty("service-port", String.valueOf(servicePort));
        if (!where.serviceDns().isEmpty()) {
            k8s.setProperty("service-dns", where.serviceDns());
            k8s.setProperty("service-dns-timeout", "5");
        } else {
            k8s.setProperty("service-name", where.serviceName());
            if (!where.namespace().isEmpty()) {
                k8s.setProperty("namespace", where.namespace());
            }
        }
    }

    private static String seconds(long s) {
        return String.valueOf(Math.max(1, s));
    }
}

package dev.warmroute.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a warmroute process joins the Hazelcast cluster that holds session history, bindings and the worker registry.
 *
 * <p>Defaults suit a laptop or a drill on one machine: TCP-IP join on 127.0.0.1, multicast off, and failure
 * detection in seconds (heartbeat 1 s, a silent member removed after 5 s) instead of Hazelcast's production
 * defaults (5 s and 60 s). A killed process is noticed at once either way, through refused connections; only a hung
 * process or a partitioned host waits for the heartbeat timeout. Raise both on real networks where GC pauses or
 * congestion could otherwise evict healthy members.
 *
 * @param clusterName     members with another name never join (keeps two local clusters apart)
 * @param host            address this member binds to and advertises
 * @param port            member port (ignored in {@link Mode#CLIENT} mode)
 * @param members         seed addresses {@code host:port} to join; empty means "start alone"
 * @param mode            embedded data member, or a client of an external cluster
 * @param heartbeat       interval of member heartbeats
 * @param maxNoHeartbeat  a member silent this long is removed
 * @param backupCount     synchronous backups of every map entry (1 keeps data through one member loss)
 * @param sessionMaxIdle  a session untouched this long expires from the map
 * @param discovery       how members (and clients) find the cluster: TCP-IP seeds or Kubernetes
 * @param kubernetes      where to look in Kubernetes mode (null in TCP-IP mode)
 * @param publicAddress   {@code host:port} other members and clients use to reach this member, when it differs from
 *                        what it binds (NAT); empty: the bound address, or the one Hazelcast picks for a wildcard host
 * @param clusterSize     how many data members the cluster is meant to have (1..64). Above 1 it sets the quorum
 *                        (a majority: {@link #quorum()}) that the session and binding maps need on a side of a split
 *                        brain, and the members a joining member waits for ({@code hazelcast.initial.min.cluster.size})
 */
public record HazelcastSettings(
        String clusterName,
        String host,
        int port,
        List<String> members,
        Mode mode,
        Duration heartbeat,
        Duration maxNoHeartbeat,
        int backupCount,
        Duration sessionMaxIdle,
        Discovery discovery,
        Kubernetes kubernetes,
        String publicAddress,
        int clusterSize) {

    /** Embedded data member (the default for workers) or client of an external cluster (routers, or workers by flag). */
    public enum Mode { MEMBER, CLIENT }

    /**
     * TCP-IP: the seeds in {@code members} (laptops, docker-compose by service name). KUBERNETES: Hazelcast's built-in
     * Kubernetes discovery, which asks the cluster DNS (a headless service) or the Kubernetes API for the members'
     * pod addresses, so a StatefulSet can scale without a seed list.
     */
    public enum Discovery { TCP_IP, KUBERNETES }

    /**
     * Where Kubernetes discovery looks. Exactly one of the two modes: {@code serviceDns} (DNS lookup of a headless
     * service, e.g. {@code warmroute-workers.warmroute.svc.cluster.local}: no RBAC needed, but the service must
     * publish not-ready addresses, since members join before they are ready) or {@code serviceName} (the API: the
     * pods need RBAC to read endpoints; {@code namespace} defaults to the pod's own).
     *
     * @param servicePort members' port behind the service; 0 = the member port (or 5701 for a client)
     */
    public record Kubernetes(String serviceDns, String serviceName, String namespace, int servicePort) {
        public Kubernetes {
            serviceDns = serviceDns == null ? "" : serviceDns.strip();
            serviceName = serviceName == null ? "" : serviceName.strip();
            namespace = namespace == null ? "" : namespace.strip();
            if (serviceDns.isEmpty() == serviceName.isEmpty()) {
                throw new IllegalArgumentException("kubernetes discovery: give exactly one of kubernetes-service-dns"
                        + " (DNS lookup of a headless service) or kubernetes-service-name (Kubernetes API), got "
                        + (serviceDns.isEmpty() ? "neither" : "both"));
            }
            if (!serviceDns.isEmpty() && !serviceDns.matches(DNS_NAME)) {
                throw new IllegalArgumentException("kubernetes-service-dns: a DNS name like"
                        + " warmroute-workers.default.svc.cluster.local, got '" + serviceDns + "'");
            }
            if (!serviceName.isEmpty() && !serviceName.matches(DNS_LABEL)) {
                throw new IllegalArgumentException("kubernetes-service-name: a service name (lower-case letters,"
                        + " digits and '-', at most 63), got '" + serviceName + "'");
            }
            if (!namespace.isEmpty() && !namespace.matches(DNS_LABEL)) {
                throw new IllegalArgumentException("kubernetes-namespace: a namespace name (lower-case letters,"
                        + " digits and '-', at most 63), got '" + namespace + "'");
            }
            if (!namespace.isEmpty() && !serviceDns.isEmpty()) {
                throw new IllegalArgumentException("kubernetes-namespace: only with kubernetes-service-name (the"
                        + " namespace is part of the service DNS name)");
            }
            if (servicePort < 0 || servicePort > 65535) {
                throw new IllegalArgumentException("kubernetes service port: must be in [0, 65535], got "
                        + servicePort);
            }
        }

        /** DNS lookup of a headless service. */
        public static Kubernetes dns(String serviceDns) {
            return new Kubernetes(serviceDns, "", "", 0);
        }

        /** The Kubernetes API's endpoints of a service ({@code namespace} empty: the pod's own). */
        public static Kubernetes api(String serviceName, String namespace) {
            return new Kubernetes("", serviceName, namespace, 0);
        }

        public Kubernetes withServicePort(int port) {
            return new Kubernetes(serviceDns, serviceName, namespace, port);
        }
    }

    private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
    private static final String DNS_NAME = "(?i)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\\.?";

    public HazelcastSettings {
        Objects.requireNonNull(mode, "mode");
        discovery = discovery == null ? Discovery.TCP_IP : discovery;
        publicAddress = publicAddress == null ? "" : publicAddress.strip();
        if (!publicAddress.isEmpty()) {
            HostPort.parse(publicAddress, "hazelcast public address");
        }
        if (discovery == Discovery.KUBERNETES) {
            if (kubernetes == null) {
                throw new IllegalArgumentException("kubernetes discovery: kubernetes-service-dns or"
                        + " kubernetes-service-name is required");
            }
            if (members != null && !members.isEmpty()) {
                throw new IllegalArgumentException("members: not used with kubernetes discovery (members are found"
                        + " through the service); leave --members empty");
            }
        } else if (kubernetes != null) {
            throw new IllegalArgumentException("kubernetes-service-dns / kubernetes-service-name: only with"
                    + " --discovery kubernetes");
        }
        if (clusterName == null || clusterName.isBlank() || !clusterName.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("cluster name: 1 to 64 characters of [A-Za-z0-9._-], got '" + clusterName + "'");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("hazelcast host: required");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("hazelcast port: must be in [0, 65535], got " + port);
        }
        members = List.copyOf(members == null ? List.of() : members);
        for (String m : members) {
            HostPort.parse(m, "hazelcast member");
        }
        if (mode == Mode.CLIENT && discovery == Discovery.TCP_IP && members.isEmpty()) {
            throw new IllegalArgumentException("members: a client needs at least one member address host:port");
        }
        requirePositive(heartbeat, "heartbeat");
        requirePositive(maxNoHeartbeat, "max no heartbeat");
        if (maxNoHeartbeat.compareTo(heartbeat.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("max no heartbeat (" + maxNoHeartbeat.toMillis()
                    + " ms) must be at least twice the heartbeat interval (" + heartbeat.toMillis() + " ms)");
        }
        if (backupCount < 0 || backupCount > 6) {
            throw new IllegalArgumentException("backup count: must be in [0, 6], got " + backupCount);
        }
        requirePositive(sessionMaxIdle, "session max idle");
        if (clusterSize < 1 || clusterSize > 64) {
            throw new IllegalArgumentException("cluster-size: must be in [1, 64], got " + clusterSize);
        }
    }

    /**
     * Members a side of a split brain needs to read or write sessions: a majority of {@link #clusterSize}, so that two
     * sides can never both accept turns. 1 for a cluster of 1 (no protection).
     */
    public int quorum() {
        return clusterSize / 2 + 1;
    }

    /**
     * Members a starting member waits for before it serves ({@code hazelcast.initial.min.cluster.size}). A member
     * with seeds waits for a quorum, so one that cannot reach its seeds does not form a cluster of its own; the first
     * member (no seeds: the one the others join) starts alone, as it must.
     */
    public int initialMinClusterSize() {
        return members.isEmpty() ? 1 : quorum();
    }

    /**
     * Defaults for one machine: port 5701, no seeds, member mode, TCP-IP discovery, 1 s / 5 s failure detection,
     * 1 backup, 7 days idle.
     */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().clusterName(clusterName).host(host).port(port).members(members).mode(mode)
                .heartbeat(heartbeat).maxNoHeartbeat(maxNoHeartbeat).backupCount(backupCount)
                .sessionMaxIdle(sessionMaxIdle).discovery(discovery).kubernetes(kubernetes)
                .publicAddress(publicAddress).clusterSize(clusterSize);
    }

    /** This member's own address, host:port. */
    public String address() {
        return host + ":" + port;
    }

    /**
     * True when the host is a wildcard ({@code 0.0.0.0}, {@code ::}, {@code *}): the member binds every interface and
     * Hazelcast picks the address it advertises (in a container or pod: its own IP), unless {@code publicAddress}
     * says otherwise. That is what containers need, where the address is known only at run time.
     */
    public boolean bindsAnyAddress() {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("*") || host.equals("[::]");
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": must be a positive duration, got " + d);
        }
    }

    public static final class Builder {
        private String clusterName = "warmroute";
        private String host = "127.0.0.1";
        private int port = 5701;
        private List<String> members = new ArrayList<>();
        private Mode mode = Mode.MEMBER;
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration maxNoHeartbeat = Duration.ofSeconds(5);
        private int backupCount = 1;
        private Duration sessionMaxIdle = Duration.ofDays(7);
        private Discovery discovery = Discovery.TCP_IP;
        private Kubernetes kubernetes;
        private String publicAddress = "";
        private int clusterSize = 1;

        public Builder clusterName(String v) { clusterName = v; return this; }
        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder members(List<String> v) { members = new ArrayList<>(v); return this; }
        public Builder mode(Mode v) { mode = v; return this; }
        public Builder heartbeat(Duration v) { heartbeat = v; return this; }
        public Builder maxNoHeartbeat(Duration v) { maxNoHeartbeat = v; return this; }
        public Builder backupCount(int v) { backupCount = v; return this; }
        public Builder sessionMaxIdle(Duration v) { sessionMaxIdle = v; return this; }
        public Builder discovery(Discovery v) { discovery = v; return this; }
        public Builder kubernetes(Kubernetes v) { kubernetes = v; return this; }
        /** Kubernetes discovery in one call (sets the discovery mode too). */
        public Builder kubernetesDiscovery(Kubernetes v) { discovery = Discovery.KUBERNETES; kubernetes = v; return this; }
        public Builder publicAddress(String v) { publicAddress = v; return this; }
        public Builder clusterSize(int v) { clusterSize = v; return this; }

        public HazelcastSettings build() {
            return new HazelcastSettings(clusterName, host, port, members, mode, heartbeat, maxNoHeartbeat,
                    backupCount, sessionMaxIdle, discovery, kubernetes, publicAddress, clusterSize);
        }
    }
}

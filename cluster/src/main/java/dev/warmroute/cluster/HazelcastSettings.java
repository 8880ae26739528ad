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
        Duration sessionMaxIdle) {

    /** Embedded data member (the default for workers) or client of an external cluster (routers, or workers by flag). */
    public enum Mode { MEMBER, CLIENT }

    public HazelcastSettings {
        Objects.requireNonNull(mode, "mode");
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
        if (mode == Mode.CLIENT && members.isEmpty()) {
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
    }

    /** Defaults for one machine: port 5701, no seeds, member mode, 1 s / 5 s failure detection, 1 backup, 7 days idle. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().clusterName(clusterName).host(host).port(port).members(members).mode(mode)
                .heartbeat(heartbeat).maxNoHeartbeat(maxNoHeartbeat).backupCount(backupCount)
                .sessionMaxIdle(sessionMaxIdle);
    }

    /** This member's own address, host:port. */
    public String address() {
        return host + ":" + port;
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

        public Builder clusterName(String v) { clusterName = v; return this; }
        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder members(List<String> v) { members = new ArrayList<>(v); return this; }
        public Builder mode(Mode v) { mode = v; return this; }
        public Builder heartbeat(Duration v) { heartbeat = v; return this; }
        public Builder maxNoHeartbeat(Duration v) { maxNoHeartbeat = v; return this; }
        public Builder backupCount(int v) { backupCount = v; return this; }
        public Builder sessionMaxIdle(Duration v) { sessionMaxIdle = v; return this; }

        public HazelcastSettings build() {
            return new HazelcastSettings(clusterName, host, port, members, mode, heartbeat, maxNoHeartbeat,
                    backupCount, sessionMaxIdle);
        }
    }
}

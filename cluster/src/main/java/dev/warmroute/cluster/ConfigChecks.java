package dev.warmroute.cluster;

import java.time.Duration;

/**
 * The checks every server's config makes of the settings all servers have (bind address, ports, durations, the
 * launcher's pid), with one wording: a worker and a router refuse the same bad value with the same message, which
 * names the flag and the limit.
 */
public final class ConfigChecks {

    private ConfigChecks() {}

    public static void requireHost(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: required");
        }
    }

    /** A port to bind; 0 = any free one. */
    public static void requirePort(int port, String field) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(field + ": must be in [0, 65535], got " + port);
        }
    }

    /** The Prometheus endpoint's port; 0 = no endpoint. */
    public static void requireMetricsPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("metrics-port: must be in [0, 65535] (0 = off), got " + port);
        }
    }

    /** The pid a child server watches ({@link ParentWatch}); 0 = none. */
    public static void requireParentPid(long pid) {
        if (pid < 0) {
            throw new IllegalArgumentException("parent-pid: must be positive (0 = none), got " + pid);
        }
    }

    public static void requirePositive(Duration d, String field) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(field + ": must be positive, got " + d);
        }
    }
}

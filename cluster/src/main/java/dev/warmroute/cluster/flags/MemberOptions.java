package dev.warmroute.cluster.flags;

import dev.warmroute.cluster.HazelcastSettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags of a process that is a Hazelcast data member (a worker in member mode, {@code warmroute member}): where
 * it binds, how others reach it, and what the maps keep. A picocli mixin beside {@link HazelcastOptions}.
 */
public final class MemberOptions {

    @Option(names = "--hazelcast-host", defaultValue = "127.0.0.1",
            description = "Hazelcast member bind address; 0.0.0.0 binds all and advertises the machine's (container's,"
                    + " pod's) first non-loopback address (default ${DEFAULT-VALUE}).")
    public String host;

    @Option(names = "--hazelcast-port", defaultValue = "5701",
            description = "Hazelcast member port; 0 picks a free one (default ${DEFAULT-VALUE}).")
    public int port;

    @Option(names = "--hazelcast-public-address", defaultValue = "", paramLabel = "HOST:PORT",
            description = "Address other members and clients use to reach this member, when it differs from the"
                    + " bound one (NAT).")
    public String publicAddress;

    @Option(names = "--backup-count", defaultValue = "1",
            description = "Synchronous backups of each session (default ${DEFAULT-VALUE}).")
    public int backupCount;

    @Option(names = "--session-max-idle-hours", defaultValue = "168",
            description = "Sessions untouched this long expire (default ${DEFAULT-VALUE}).")
    public long sessionMaxIdleHours;

    /** Sets bind address, port, public address, backups and expiry on {@code builder}. */
    public HazelcastSettings.Builder applyTo(HazelcastSettings.Builder builder) {
        return builder.host(host).port(port).publicAddress(publicAddress).backupCount(backupCount)
                .sessionMaxIdle(Duration.ofHours(sessionMaxIdleHours));
    }
}

package dev.warmroute.cli;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import dev.warmroute.cluster.DiscoveryFlags;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.ParentWatch;
import dev.warmroute.cluster.ReadyFile;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.flags.HazelcastOptions;
import dev.warmroute.cluster.flags.MemberOptions;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.cluster.store.SessionDatabase;
import dev.warmroute.cluster.store.SessionMapStore;
import dev.warmroute.cluster.store.StoreSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code warmroute member}: a Hazelcast data member with warmroute's map configs and serializers and nothing else, for
 * a cluster whose data lives apart from the workers ({@code warmroute worker --hazelcast-mode client}). The session
 * entry processors run on the members that own the data, so such a member must carry them: this command is that
 * member, from the same jar (a plain Hazelcast distribution would need the warmroute-cluster jar and the serializers
 * configured by hand).
 */
@Command(name = "member", description = {
        "Run a standalone Hazelcast data member for warmroute (map configs, session entry processors and",
        "serializers), for workers started with --hazelcast-mode client. SIGTERM leaves the cluster gracefully",
        "(partitions migrate first)."})
final class MemberCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(MemberCommand.class);

    @Option(names = "--members", defaultValue = "", paramLabel = "HOST:PORT,...",
            description = "Members to join (TCP-IP discovery; empty: start alone).")
    String members;

    @Mixin
    HazelcastOptions hazelcast = new HazelcastOptions();

    @Mixin
    MemberOptions member = new MemberOptions();

    @Option(names = "--cluster-size", defaultValue = "1",
            description = "Data members the cluster is meant to have; above 1, a side of a split without a majority"
                    + " refuses session reads and writes (default ${DEFAULT-VALUE}).")
    int clusterSize;

    @Option(names = "--store", defaultValue = "", paramLabel = "JDBC-URL",
            description = "Database behind the session history (write-through, loaded lazily), the same for every"
                    + " member: jdbc:postgresql://host:port/db. Default: none (memory only).")
    String store;

    @Option(names = "--store-user", defaultValue = "", description = "Database user of --store.")
    String storeUser;

    @Option(names = "--store-password-file", paramLabel = "FILE", description = "File with the password of --store.")
    Path storePasswordFile;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written with the bound port once the member runs.")
    Path readyFile;

    @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process ends (set by launchers).")
    long parentPid;

    HazelcastSettings settings() {
        return hazelcast.applyTo(member.applyTo(HazelcastSettings.builder()).members(DiscoveryFlags.seeds(members))
                .mode(HazelcastSettings.Mode.MEMBER).clusterSize(clusterSize)).build();
    }

    @Override
    public Integer call() throws Exception {
        HazelcastSettings settings;
        try {
            settings = settings();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        // The records stored in the maps and the entry processors that run here (CommitTurn, CreateSession, ...).
        List<CompactSerializer<?>> serializers = new ArrayList<>(SessionSerializers.all());
        serializers.add(new WorkerRegistration.Serializer());
        SessionMapStore mapStore = null;
        if (!store.isBlank()) {
            try {
                StoreSettings ss = StoreSettings.of(store, storeUser,
                        storePasswordFile == null ? "" : StoreSettings.readPassword(storePasswordFile));
                mapStore = new SessionMapStore(SessionDatabase.open(ss));
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            } catch (RuntimeException e) {
                throw new UserError("history store: " + e.getMessage(), 1);
            }
        }
        HazelcastInstance hz;
        try {
            hz = HazelcastFactory.startMember(settings, Map.of("role", "member"), serializers, mapStore);
        } catch (RuntimeException e) {
            throw new UserError("hazelcast member did not start: " + e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        var address = hz.getCluster().getLocalMember().getAddress();
        // Logged from the listener: on SIGTERM these run inside Hazelcast's shutdown hook, the last code that runs.
        hz.getLifecycleService().addLifecycleListener(event -> {
            switch (event.getState()) {
                case SHUTTING_DOWN -> log.info("member.stopping address={}:{} (partitions migrate first)",
                        address.getHost(), address.getPort());
                case SHUTDOWN -> {
                    log.info("member.stopped address={}:{}", address.getHost(), address.getPort());
                    stopped.countDown();
                }
                default -> { }
            }
        });
        log.info("member.ready address={}:{} cluster={} discovery={} members={}", address.getHost(),
                address.getPort(), settings.clusterName(), settings.discovery(), hz.getCluster().getMembers().size());
        if (readyFile != null) {
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("role", "member");
            ready.put("hazelcast_address", address.getHost() + ":" + address.getPort());
            ready.put("hazelcast_port", address.getPort());
            ready.put("pid", ProcessHandle.current().pid());
            ReadyFile.write(readyFile, ready);
        }
        if (parentPid > 0) {
            ParentWatch.exitWhenGone(parentPid);
        }
        // SIGTERM: Hazelcast's own shutdown hook (policy GRACEFUL, set by HazelcastFactory) migrates the partitions
        // away before the member leaves; then the latch opens and the command returns.
        stopped.await();
        return 0;
    }
}

package dev.warmroute.worker;

import dev.warmroute.cluster.DiscoveryFlags;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.auth.AuthOptions;
import dev.warmroute.cluster.flags.HazelcastOptions;
import dev.warmroute.http.HttpFrontOptions;
import dev.warmroute.cluster.flags.MemberOptions;
import dev.warmroute.engine.ModelLocator;
import dev.warmroute.cluster.store.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The worker's flags, in one place: {@code warmroute worker} mixes them in, and so does {@link WorkerRole} (what the
 * worker JVMs of tests, drills and {@code cluster up} run), so both take exactly the same arguments. The Hazelcast
 * flags are the shared mixins of the cluster module, the {@code --http-*} flags the http module's.
 */
public final class WorkerOptions {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "gRPC bind address (default ${DEFAULT-VALUE}).")
    public String host;

    @Option(names = "--port", defaultValue = "7100", description = "gRPC port; 0 picks a free one (default ${DEFAULT-VALUE}).")
    public int port;

    @Option(names = "--advertise-address", defaultValue = "", paramLabel = "HOST:PORT",
            description = "Address routers use to reach this worker (default: host and the bound port).")
    public String advertiseAddress;

    @Option(names = "--worker-id", defaultValue = "", description = "Stable worker id (default: the advertised address).")
    public String workerId;

    @Option(names = "--model", paramLabel = "FILE",
            description = "GGUF model to serve (default: the reference model, " + ModelLocator.REFERENCE_MODEL
                    + ", from $WARMROUTE_SHARED/models/ or ../shared/models/).")
    public Path model;

    @Option(names = "--kv-cache-mb", defaultValue = "256", description = "Byte budget of all KV caches, in MB (default ${DEFAULT-VALUE}).")
    public int kvCacheMb;

    @Option(names = "--capacity", defaultValue = "2", description = "Turns computed at once (default ${DEFAULT-VALUE}).")
    public int capacity;

    @Option(names = "--queue", defaultValue = "16", description = "Turns waiting for a slot before RESOURCE_EXHAUSTED (default ${DEFAULT-VALUE}).")
    public int queue;

    @Option(names = "--threads", defaultValue = "0", description = "Threads of one forward pass; 0 = all cores (default ${DEFAULT-VALUE}).")
    public int threads;

    @Option(names = "--metrics-port", defaultValue = "0", description = "Prometheus /metrics port; 0 = off (default ${DEFAULT-VALUE}).")
    public int metricsPort;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Written with the bound ports once serving.")
    public Path readyFile;

    @Option(names = "--shutdown-grace-seconds", defaultValue = "20", description = "On SIGTERM, how long running turns may finish (default ${DEFAULT-VALUE}).")
    public int shutdownGraceSeconds;

    @Option(names = "--members", defaultValue = "", paramLabel = "HOST:PORT,...",
            description = "Hazelcast members to join (empty: start alone, or the only seed).")
    public String members;

    @Mixin
    public HazelcastOptions hazelcast = new HazelcastOptions();

    /** {@code --auth-*}: bearer tokens for client calls (open without them). */
    @Mixin
    public AuthOptions auth = new AuthOptions();

    /** The OpenAI-compatible HTTP front beside the gRPC server ({@code --http-*}; off without {@code --http-port}). */
    @Mixin
    public HttpFrontOptions http = new HttpFrontOptions();

    @Mixin
    public MemberOptions member = new MemberOptions();

    @Option(names = "--hazelcast-mode", defaultValue = "member", paramLabel = "member|client",
            description = "Embedded data member (default), or client of an external cluster (which then needs the"
                    + " warmroute-cluster jar on its members' classpath).")
    public String hazelcastMode;

    @Option(names = "--store-timeout-ms", defaultValue = "5000", description = "Deadline of each history-store call (default ${DEFAULT-VALUE}).")
    public long storeTimeoutMs;

    @Option(names = "--session-wait-ms", defaultValue = "30000", description = "How long a turn waits for the previous turn of its session (default ${DEFAULT-VALUE}).")
    public long sessionWaitMs;

    @Option(names = "--session-waiters", defaultValue = "4", description = "Turns of one session that may wait behind a running one (default ${DEFAULT-VALUE}).")
    public int sessionWaiters;

    @Option(names = "--prefill-chunk", defaultValue = "128", description = "Prompt tokens per forward call; cancellation is checked between chunks (default ${DEFAULT-VALUE}).")
    public int prefillChunk;

    @Option(names = "--stream-stall-seconds", defaultValue = "60", description = "A client that reads nothing this long has its turn stopped (default ${DEFAULT-VALUE}).")
    public long streamStallSeconds;

    @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process ends (set by launchers).")
    public long parentPid;

    @Option(names = "--stateless",
            description = "Keep no KV cache between turns: every turn computes its whole prompt from the stored "
                    + "history (cache outcome COLD, reason STATELESS). For comparison benchmarks (bench cluster); "
                    + "off by default.")
    public boolean stateless;

    @Option(names = "--store", defaultValue = "", paramLabel = "JDBC-URL",
            description = "Database behind the session history (write-through, sessions loaded on first use), shared"
                    + " by every worker: jdbc:postgresql://host:port/db in production, jdbc:h2:tcp://... for cluster"
                    + " up's store process. Default: none (history in memory only), or --data.")
    public String store;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Keep the history in an embedded H2 database in DIR (one worker only: H2 locks the file;"
                    + " several workers share a database through --store).")
    public Path data;

    @Option(names = "--store-user", defaultValue = "", description = "Database user of --store.")
    public String storeUser;

    @Option(names = "--store-password-file", paramLabel = "FILE",
            description = "File whose first line is the database password of --store (never on the command line).")
    public Path storePasswordFile;

    @Option(names = "--store-pool-size", defaultValue = "4", description = "Database connections of this worker (default ${DEFAULT-VALUE}).")
    public int storePoolSize;

    @Option(names = "--store-connect-timeout-ms", defaultValue = "1500",
            description = "How long a store call waits for a connection before the store counts as down (default ${DEFAULT-VALUE}).")
    public long storeConnectTimeoutMs;

    @Option(names = "--cluster-size", defaultValue = "1",
            description = "Workers (data members) the cluster is meant to have. Above 1, a side of a split brain with"
                    + " fewer than a majority of them refuses session reads and writes (UNAVAILABLE), and a worker with"
                    + " --members waits for a majority before it serves (default ${DEFAULT-VALUE}).")
    public int clusterSize;

    /** The store flags as settings; null when neither --store nor --data is given. */
    public StoreSettings storeSettings() {
        boolean url = store != null && !store.isBlank();
        if (url && data != null) {
            throw new IllegalArgumentException("store: give --store or --data, not both");
        }
        StoreSettings s;
        if (url) {
            String password = storePasswordFile == null ? "" : StoreSettings.readPassword(storePasswordFile);
            s = StoreSettings.of(store, storeUser, password);
        } else if (data != null) {
            s = StoreSettings.embeddedH2(data);
        } else {
            return null;
        }
        return new StoreSettings(s.url(), s.user(), s.password(), storePoolSize,
                Duration.ofMillis(storeConnectTimeoutMs), s.queryTimeout());
    }

    /** The typed config; IllegalArgumentException naming the flag when a value is out of range. */
    public WorkerConfig toConfig() {
        HazelcastSettings.Mode mode = switch (hazelcastMode.toLowerCase(java.util.Locale.ROOT)) {
            case "member" -> HazelcastSettings.Mode.MEMBER;
            case "client" -> HazelcastSettings.Mode.CLIENT;
            default -> throw new IllegalArgumentException("hazelcast-mode: member or client, got '" + hazelcastMode
                    + "'");
        };
        List<String> seeds = DiscoveryFlags.seeds(members);
        if (mode == HazelcastSettings.Mode.CLIENT && !hazelcast.kubernetes() && seeds.isEmpty()) {
            throw new IllegalArgumentException("members: required with --hazelcast-mode client (addresses of the"
                    + " cluster's members)");
        }
        Path modelPath = model != null ? model : ModelLocator.referenceModel(System.getenv());
        if (!Files.isRegularFile(modelPath)) {
            throw new IllegalArgumentException("model: " + modelPath + " is not a file");
        }
        if (kvCacheMb < 1) {
            throw new IllegalArgumentException("kv-cache-mb: must be at least 1, got " + kvCacheMb);
        }
        HazelcastSettings hz = hazelcast.applyTo(member.applyTo(HazelcastSettings.builder()).members(seeds)
                .mode(mode).clusterSize(clusterSize)).build();
        return WorkerConfig.builder().host(host).port(port).advertiseAddress(advertiseAddress).workerId(workerId)
                .hazelcast(hz).model(modelPath).kvCacheMb(kvCacheMb).capacity(capacity).queue(queue)
                .engineThreads(threads).metricsPort(metricsPort).readyFile(readyFile)
                .shutdownGrace(Duration.ofSeconds(Math.max(1, shutdownGraceSeconds)))
                .storeTimeout(Duration.ofMillis(storeTimeoutMs)).sessionWait(Duration.ofMillis(sessionWaitMs))
                .sessionWaiters(sessionWaiters).prefillChunk(prefillChunk)
                .streamStall(Duration.ofSeconds(streamStallSeconds)).parentPid(parentPid).stateless(stateless)
                .store(storeSettings()).auth(auth.toSettings()).build();
    }
}

package dev.warmroute.cluster.launch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a {@link LocalCluster} is started. The defaults are a laptop's: three workers, fixed ports from 7000 (router),
 * 7001.. (workers' gRPC) and 5701.. (Hazelcast), failure detection in seconds (heartbeat 1 s, a silent member removed
 * after 5 s), one compute thread per worker when the workers outnumber the cores.
 *
 * @param workers            how many workers (1 to 16)
 * @param model              the GGUF file every worker serves
 * @param dir                run directory: logs and ready files
 * @param clusterName        Hazelcast cluster name (keeps two local clusters apart)
 * @param routerPort         router gRPC port; 0 = every port (router, workers, Hazelcast) picked by the OS
 * @param firstWorkerPort    gRPC port of w1 when ports are fixed (w2 = +1, ...)
 * @param firstHazelcastPort Hazelcast port of w1 when ports are fixed
 * @param workerThreads      compute threads of one forward pass per worker (0 = all cores)
 * @param kvCacheMb          each worker's KV cache budget
 * @param capacity           turns each worker computes at once
 * @param queue              turns waiting for a slot on each worker before RESOURCE_EXHAUSTED
 * @param statelessWorkers   workers keep no KV cache between turns ({@code --stateless}: a baseline for benchmarks)
 * @param placement          how the routers pick workers (the router's {@code --placement} value: hybrid, hash,
 *                           round-robin; the baselines are for benchmarks)
 * @param routers            the routers to start (none: a cluster of workers only, as failover tests of the
 *                           workers use); each with its id and flags of its own
 * @param heartbeat          Hazelcast heartbeat of members and the router's client
 * @param maxNoHeartbeat     a member silent this long is removed
 * @param shutdownGrace      how long running turns may finish on SIGTERM
 * @param readyTimeout       how long a child may take to write its ready file
 * @param parentPid          children exit when this process ends
 * @param extraWorkerArgs    more flags for every worker
 * @param extraRouterArgs    more flags for the router
 * @param workerJvmFlags     JVM flags of the workers (besides the inherited module flags)
 * @param routerJvmFlags     JVM flags of the router
 * @param data               data folder of the history store: an H2 database served by a store process of its own,
 *                           found again by every start with the same folder (null: no store unless {@code store})
 * @param store              JDBC URL of an external store (PostgreSQL) instead of the H2 store process; empty: none
 * @param storeUser          database user of {@code store}
 * @param storePasswordFile  file holding the password of {@code store} (null: none)
 * @param httpPort           OpenAI-compatible HTTP fronts ({@code --http-port}): -1 = none; 0 = on every router and
 *                           worker, ports picked by the OS; P = the router's on P and worker i's on P + i (ports
 *                           fixed, as with {@code routerPort}, so one router only; with OS-picked ports every router
 *                           has a front of its own on a port of its own)
 * @param network            where the nodes listen ({@link NetworkPlan#LOOPBACK}: all on 127.0.0.1)
 * @param auth               bearer tokens on the routers and workers ({@code cluster up --auth}): a token file in
 *                           {@code dir/auth} with a dev admin token ({@link LocalCluster#devToken()}); false: open
 */
public record LocalClusterOptions(
        int workers,
        Path model,
        Path dir,
        String clusterName,
        int routerPort,
        int firstWorkerPort,
        int firstHazelcastPort,
        int workerThreads,
        int kvCacheMb,
        int capacity,
        int queue,
        boolean statelessWorkers,
        String placement,
        List<RouterSpec> routers,
        Duration heartbeat,
        Duration maxNoHeartbeat,
        Duration shutdownGrace,
        Duration readyTimeout,
        long parentPid,
        List<String> extraWorkerArgs,
        List<String> extraRouterArgs,
        List<String> workerJvmFlags,
        List<String> routerJvmFlags,
        Path data,
        String store,
        String storeUser,
        Path storePasswordFile,
        int httpPort,
        NetworkPlan network,
        boolean auth) {

    public LocalClusterOptions {
        if (workers < 1 || workers > 16) {
            throw new IllegalArgumentException("workers: 1 to 16, got " + workers);
        }
        Objects.requireNonNull(model, "model");
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException("model: " + model + " is not a file");
        }
        Objects.requireNonNull(dir, "dir");
        for (int p : new int[] {routerPort, firstWorkerPort, firstHazelcastPort}) {
            if (p < 0 || p > 65535 - 16) {
                throw new IllegalArgumentException("port: must be in [0, " + (65535 - 16) + "], got " + p);
            }
        }
        if (routerPort != 0 && firstWorkerPort != 0 && routerPort >= firstWorkerPort
                && routerPort < firstWorkerPort + 16) {
            throw new IllegalArgumentException("port: the router's port " + routerPort
                    + " falls among the workers' ports from " + firstWorkerPort);
        }
        if (workerThreads < 0) {
            throw new IllegalArgumentException("threads: 0 (all cores) or more, got " + workerThreads);
        }
        if (kvCacheMb < 1) {
            throw new IllegalArgumentException("kv-cache-mb: at least 1, got " + kvCacheMb);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: at least 1, got " + capacity);
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue: 0 or more, got " + queue);
        }
        if (placement == null || placement.isBlank()) {
            throw new IllegalArgumentException("placement: hybrid, hash or round-robin, got '" + placement + "'");
        }
        routers = List.copyOf(routers);
        if (routers.stream().map(RouterSpec::id).distinct().count() != routers.size()) {
            throw new IllegalArgumentException("routers: ids must differ, got " + routers);
        }
        if (routerPort != 0 && routers.size() > 1) {
            throw new IllegalArgumentException("routers: more than one router needs port 0 (picked by the OS), got "
                    + "port " + routerPort);
        }
        if (httpPort < -1 || httpPort > 65535 - 16) {
            throw new IllegalArgumentException("http-port: -1 (off) or in [0, " + (65535 - 16) + "], got " + httpPort);
        }
        extraWorkerArgs = List.copyOf(extraWorkerArgs);
        extraRouterArgs = List.copyOf(extraRouterArgs);
        workerJvmFlags = List.copyOf(workerJvmFlags);
        routerJvmFlags = List.copyOf(routerJvmFlags);
        network = network == null ? NetworkPlan.LOOPBACK : network;
        store = store == null ? "" : store.strip();
        storeUser = storeUser == null ? "" : storeUser;
        if (!store.isEmpty() && data != null) {
            throw new IllegalArgumentException("store: give --data (an H2 store of this cluster) or --store (an"
                    + " external database), not both");
        }
        if (!store.isEmpty() && !store.startsWith("jdbc:")) {
            throw new IllegalArgumentException("store: a JDBC URL such as jdbc:postgresql://host:port/db, got '"
                    + store + "'");
        }
    }

    /** True when the cluster keeps its history in a store (H2 process in {@code data}, or {@code store}). */
    public boolean hasStore() {
        return data != null || !store.isEmpty();
    }

    /** A router to start: its id ({@code --router-id}, also the name of its log) and flags of its own. */
    public record RouterSpec(String id, List<String> extraArgs) {
        public RouterSpec {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("router id: must not be blank");
            }
            extraArgs = List.copyOf(extraArgs);
        }
    }

    /** The first router's id: what {@link LocalCluster#router()} returns. */
    public static final String DEFAULT_ROUTER = "router";

    public static Builder builder(Path model, Path dir) {
        return new Builder(model, dir);
    }

    /** Builder with the defaults described on the record. */
    public static final class Builder {
        private final Path model;
        private final Path dir;
        private int workers = 3;
        private String clusterName = "warmroute";
        private int routerPort = 7000;
        private int firstWorkerPort = -1;
        private int firstHazelcastPort = 5701;
        private int workerThreads = -1;
        private int kvCacheMb = 256;
        private int capacity = 2;
        private int queue = 16;
        private boolean statelessWorkers = false;
        private String placement = "hybrid";
        private List<RouterSpec> routers = List.of(new RouterSpec(DEFAULT_ROUTER, List.of()));
        private boolean routersGiven;
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration maxNoHeartbeat = Duration.ofSeconds(5);
        private Duration shutdownGrace = Duration.ofSeconds(10);
        private Duration readyTimeout = Duration.ofSeconds(180);
        private long parentPid = ProcessHandle.current().pid();
        private List<String> extraWorkerArgs = List.of();
        private List<String> extraRouterArgs = List.of();
        private boolean auth;
        private List<String> workerJvmFlags = List.of("-XX:+UseSerialGC");
        private List<String> routerJvmFlags = List.of("-XX:+UseSerialGC", "-Xmx256m");
        private Path data;
        private String store = "";
        private String storeUser = "";
        private Path storePasswordFile;
        private int httpPort = -1;
        private NetworkPlan network = NetworkPlan.LOOPBACK;

        Builder(Path model, Path dir) {
            this.model = model;
            this.dir = dir;
        }

        public Builder workers(int v) {
            workers = v;
            return this;
        }

        public Builder clusterName(String v) {
            clusterName = v;
            return this;
        }

        /** 0: every port picked by the OS. */
        public Builder routerPort(int v) {
            routerPort = v;
            return this;
        }

        public Builder firstWorkerPort(int v) {
            firstWorkerPort = v;
            return this;
        }

        public Builder firstHazelcastPort(int v) {
            firstHazelcastPort = v;
            return this;
        }

        /** 0 = all cores; unset: cores / workers (at least 1), so the workers do not fight over the cores. */
        public Builder workerThreads(int v) {
            workerThreads = v;
            return this;
        }

        public Builder kvCacheMb(int v) {
            kvCacheMb = v;
            return this;
        }

        public Builder capacity(int v) {
            capacity = v;
            return this;
        }

        public Builder queue(int v) {
            queue = v;
            return this;
        }

        public Builder statelessWorkers(boolean v) {
            statelessWorkers = v;
            return this;
        }

        /** The routers' {@code --placement} value (hybrid, hash, round-robin). */
        public Builder placement(String v) {
            placement = v;
            return this;
        }

        /**
         * Adds a router (the first call replaces the default single router {@value LocalClusterOptions#DEFAULT_ROUTER}); several
         * routers need {@code routerPort(0)}.
         */
        public Builder router(String id, String... extraArgs) {
            if (!routersGiven) {
                routers = new java.util.ArrayList<>();
                routersGiven = true;
            }
            routers.add(new RouterSpec(id, List.of(extraArgs)));
            return this;
        }

        /** No router: the workers alone. */
        public Builder noRouter() {
            routers = new java.util.ArrayList<>();
            routersGiven = true;
            return this;
        }

        public Builder heartbeat(Duration v) {
            heartbeat = v;
            return this;
        }

        public Builder maxNoHeartbeat(Duration v) {
            maxNoHeartbeat = v;
            return this;
        }

        public Builder shutdownGrace(Duration v) {
            shutdownGrace = v;
            return this;
        }

        public Builder readyTimeout(Duration v) {
            readyTimeout = v;
            return this;
        }

        public Builder parentPid(long v) {
            parentPid = v;
            return this;
        }

        public Builder extraWorkerArgs(List<String> v) {
            extraWorkerArgs = v;
            return this;
        }

        public Builder extraRouterArgs(List<String> v) {
            extraRouterArgs = v;
            return this;
        }

        public Builder workerJvmFlags(List<String> v) {
            workerJvmFlags = v;
            return this;
        }

        public Builder routerJvmFlags(List<String> v) {
            routerJvmFlags = v;
            return this;
        }

        /** An H2 history store in this folder, served by a store process (null: none). */
        public Builder data(Path v) {
            data = v;
            return this;
        }

        /** An external store (PostgreSQL JDBC URL); its user and the file with its password. */
        public Builder store(String url, String user, Path passwordFile) {
            store = url;
            storeUser = user;
            storePasswordFile = passwordFile;
            return this;
        }

        /** -1 (the default): no HTTP front; 0: on every router and worker, OS-picked ports; P: router P, worker i P+i. */
        public Builder httpPort(int v) {
            httpPort = v;
            return this;
        }

        /** Where the nodes listen (default: all on 127.0.0.1). */
        public Builder network(NetworkPlan v) {
            network = v;
            return this;
        }

        /** Bearer tokens on every router and worker, with a dev admin token (default: open). */
        public Builder auth(boolean v) {
            auth = v;
            return this;
        }

        public LocalClusterOptions build() {
            int threads = workerThreads >= 0 ? workerThreads
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
            int workerPort = firstWorkerPort >= 0 ? firstWorkerPort : routerPort + 1;
            return new LocalClusterOptions(workers, model, dir, clusterName, routerPort, workerPort,
                    firstHazelcastPort, threads, kvCacheMb, capacity, queue, statelessWorkers, placement, routers, heartbeat,
                    maxNoHeartbeat, shutdownGrace, readyTimeout, parentPid, extraWorkerArgs, extraRouterArgs, workerJvmFlags,
                    routerJvmFlags, data, store, storeUser, storePasswordFile, httpPort, network, auth);
        }
    }
}

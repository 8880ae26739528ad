package dev.warmroute.cli.cluster;

import dev.warmroute.router.PlacementMode;
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
 * @param placement          how the router picks workers ({@code --placement}; the baselines are for benchmarks)
 * @param heartbeat          Hazelcast heartbeat of members and the router's client
 * @param maxNoHeartbeat     a member silent this long is removed
 * @param shutdownGrace      how long running turns may finish on SIGTERM
 * @param readyTimeout       how long a child may take to write its ready file
 * @param parentPid          children exit when this process ends
 * @param extraWorkerArgs    more flags for every worker
 * @param extraRouterArgs    more flags for the router
 * @param workerJvmFlags     JVM flags of the workers (besides the inherited module flags)
 * @param routerJvmFlags     JVM flags of the router
 * @param httpPort           OpenAI-compatible HTTP fronts ({@code --http-port}): -1 = none; 0 = on every node, ports
 *                           picked by the OS; P = the router's on P and worker i's on P + i (ports fixed, as with
 *                           {@code routerPort})
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
        PlacementMode placement,
        Duration heartbeat,
        Duration maxNoHeartbeat,
        Duration shutdownGrace,
        Duration readyTimeout,
        long parentPid,
        List<String> extraWorkerArgs,
        List<String> extraRouterArgs,
        List<String> workerJvmFlags,
        List<String> routerJvmFlags,
        int httpPort) {

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
        Objects.requireNonNull(placement, "placement");
        if (httpPort < -1 || httpPort > 65535 - 16) {
            throw new IllegalArgumentException("http-port: -1 (off) or in [0, " + (65535 - 16) + "], got " + httpPort);
        }
        extraWorkerArgs = List.copyOf(extraWorkerArgs);
        extraRouterArgs = List.copyOf(extraRouterArgs);
        workerJvmFlags = List.copyOf(workerJvmFlags);
        routerJvmFlags = List.copyOf(routerJvmFlags);
    }

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
        private PlacementMode placement = PlacementMode.HYBRID;
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration maxNoHeartbeat = Duration.ofSeconds(5);
        private Duration shutdownGrace = Duration.ofSeconds(10);
        private Duration readyTimeout = Duration.ofSeconds(180);
        private long parentPid = ProcessHandle.current().pid();
        private List<String> extraWorkerArgs = List.of();
        private List<String> extraRouterArgs = List.of();
        private List<String> workerJvmFlags = List.of("-XX:+UseSerialGC");
        private List<String> routerJvmFlags = List.of("-XX:+UseSerialGC", "-Xmx256m");
        private int httpPort = -1;

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

        public Builder placement(PlacementMode v) {
            placement = v;
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

        /** -1 (the default): no HTTP front; 0: on every node, OS-picked ports; P: router P, worker i P + i. */
        public Builder httpPort(int v) {
            httpPort = v;
            return this;
        }

        public LocalClusterOptions build() {
            int threads = workerThreads >= 0 ? workerThreads
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
            int workerPort = firstWorkerPort >= 0 ? firstWorkerPort : routerPort + 1;
            return new LocalClusterOptions(workers, model, dir, clusterName, routerPort, workerPort,
                    firstHazelcastPort, threads, kvCacheMb, capacity, queue, statelessWorkers, placement, heartbeat, maxNoHeartbeat, shutdownGrace,
                    readyTimeout, parentPid, extraWorkerArgs, extraRouterArgs, workerJvmFlags, routerJvmFlags,
                    httpPort);
        }
    }
}

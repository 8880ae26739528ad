package dev.warmroute.worker;

import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.ConfigChecks;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.HostPort;
import dev.warmroute.cluster.auth.AuthSettings;
import dev.warmroute.cluster.store.StoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a worker needs to start, validated once. Defaults suit a laptop: one worker on 127.0.0.1, an embedded
 * Hazelcast member, 256 MB of KV cache, two turns at a time.
 *
 * @param host              gRPC bind address
 * @param port              gRPC port (0 = any free port; the bound one is in the ready file)
 * @param advertiseAddress  host:port routers use to reach this worker; empty = host and the bound port
 * @param workerId          stable id; empty = the advertised address
 * @param hazelcast         how to join the cluster holding the session history
 * @param model             GGUF file to serve
 * @param kvCacheBytes      byte budget of all sessions' KV caches together
 * @param capacity          turns computed at once
 * @param queue             turns waiting for a compute slot before new ones get RESOURCE_EXHAUSTED
 * @param engineThreads     threads of one forward pass (0 = all cores)
 * @param metricsPort       Prometheus endpoint port (0 = off)
 * @param readyFile         written with the bound ports once serving (null = none)
 * @param shutdownGrace     how long a graceful stop lets running turns finish
 * @param storeTimeout      deadline of each history-store call
 * @param sessionWait       how long a turn waits for the previous turn of its session before ABORTED
 * @param sessionWaiters    turns of one session that may wait at once (more get ABORTED at once)
 * @param prefillChunk      prompt tokens per forward call: cancellation and deadlines are checked between chunks
 * @param streamStall       a client that reads nothing for this long has its turn ended
 * @param parentPid         exit when this process ends (0 = no watch); set by launchers of child JVMs
 * @param stateless         keep no KV cache between turns: every turn computes its whole prompt (COLD, reason
 *                          STATELESS). The seed's "stateless server" approach on the same engine, for comparison
 *                          benchmarks; never what you want in production
 * @param store             the database behind the sessions map (write-through, lazy load); null: history in
 *                          Hazelcast's memory only, lost when every member stops. Ignored in Hazelcast client mode (the
 *                          data members own the store)
 * @param auth              how direct clients are authenticated ({@link AuthSettings#OPEN}: they name themselves);
 *                          a router's calls carry the cluster's internal credential instead
 */
public record WorkerConfig(
        String host,
        int port,
        String advertiseAddress,
        String workerId,
        HazelcastSettings hazelcast,
        Path model,
        long kvCacheBytes,
        int capacity,
        int queue,
        int engineThreads,
        int metricsPort,
        Path readyFile,
        Duration shutdownGrace,
        Duration storeTimeout,
        Duration sessionWait,
        int sessionWaiters,
        int prefillChunk,
        Duration streamStall,
        long parentPid,
        boolean stateless,
        StoreSettings store,
        AuthSettings auth) {

    public WorkerConfig {
        Objects.requireNonNull(hazelcast, "hazelcast");
        Objects.requireNonNull(auth, "auth");
        ConfigChecks.requireHost(host);
        ConfigChecks.requirePort(port, "port");
        advertiseAddress = advertiseAddress == null ? "" : advertiseAddress.strip();
        if (!advertiseAddress.isEmpty()) {
            HostPort.parse(advertiseAddress, "advertise-address");
        }
        workerId = workerId == null ? "" : workerId.strip();
        if (!workerId.isEmpty() && !ApiLimits.OWNER.matcher(workerId).matches()) {
            throw new IllegalArgumentException("worker-id: must be " + ApiLimits.OWNER_RULE + ", got '" + workerId + "'");
        }
        Objects.requireNonNull(model, "model: required (a GGUF file)");
        if (kvCacheBytes < 64 * 1024) {
            throw new IllegalArgumentException("kv-cache-mb: the KV cache budget must be at least 64 KiB, got "
                    + kvCacheBytes + " bytes");
        }
        if (capacity < 1 || capacity > 256) {
            throw new IllegalArgumentException("capacity: must be in [1, 256], got " + capacity);
        }
        if (queue < 0 || queue > 10_000) {
            throw new IllegalArgumentException("queue: must be in [0, 10000], got " + queue);
        }
        if (engineThreads < 0 || engineThreads > 1024) {
            throw new IllegalArgumentException("threads: must be in [0, 1024] (0 = all cores), got " + engineThreads);
        }
        ConfigChecks.requireMetricsPort(metricsPort);
        ConfigChecks.requirePositive(shutdownGrace, "shutdown-grace-seconds");
        ConfigChecks.requirePositive(storeTimeout, "store-timeout-ms");
        ConfigChecks.requirePositive(sessionWait, "session-wait-ms");
        ConfigChecks.requirePositive(streamStall, "stream-stall-seconds");
        if (sessionWaiters < 0 || sessionWaiters > 1000) {
            throw new IllegalArgumentException("session-waiters: must be in [0, 1000], got " + sessionWaiters);
        }
        if (prefillChunk < 1 || prefillChunk > 65536) {
            throw new IllegalArgumentException("prefill-chunk: must be in [1, 65536], got " + prefillChunk);
        }
        ConfigChecks.requireParentPid(parentPid);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().host(host).port(port).advertiseAddress(advertiseAddress).workerId(workerId)
                .hazelcast(hazelcast).model(model).kvCacheBytes(kvCacheBytes).capacity(capacity).queue(queue)
                .engineThreads(engineThreads).metricsPort(metricsPort).readyFile(readyFile)
                .shutdownGrace(shutdownGrace).storeTimeout(storeTimeout).sessionWait(sessionWait)
                .sessionWaiters(sessionWaiters).prefillChunk(prefillChunk).streamStall(streamStall)
                .parentPid(parentPid).stateless(stateless).store(store).auth(auth);
    }

    /** Laptop defaults; {@code model} has none (see {@link dev.warmroute.engine.ModelLocator}). */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 7100;
        private String advertiseAddress = "";
        private String workerId = "";
        private HazelcastSettings hazelcast = HazelcastSettings.builder().build();
        private Path model;
        private long kvCacheBytes = 256L * 1024 * 1024;
        private int capacity = 2;
        private int queue = 16;
        private int engineThreads = 0;
        private int metricsPort = 0;
        private Path readyFile;
        private Duration shutdownGrace = Duration.ofSeconds(20);
        private Duration storeTimeout = Duration.ofSeconds(5);
        private Duration sessionWait = Duration.ofSeconds(30);
        private int sessionWaiters = 4;
        private int prefillChunk = 128;
        private Duration streamStall = Duration.ofSeconds(60);
        private long parentPid = 0;
        private boolean stateless = false;
        private StoreSettings store;
        private AuthSettings auth = AuthSettings.OPEN;

        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder advertiseAddress(String v) { advertiseAddress = v; return this; }
        public Builder workerId(String v) { workerId = v; return this; }
        public Builder hazelcast(HazelcastSettings v) { hazelcast = v; return this; }
        public Builder model(Path v) { model = v; return this; }
        public Builder kvCacheBytes(long v) { kvCacheBytes = v; return this; }
        public Builder kvCacheMb(int mb) { kvCacheBytes = mb * 1024L * 1024L; return this; }
        public Builder capacity(int v) { capacity = v; return this; }
        public Builder queue(int v) { queue = v; return this; }
        public Builder engineThreads(int v) { engineThreads = v; return this; }
        public Builder metricsPort(int v) { metricsPort = v; return this; }
        public Builder readyFile(Path v) { readyFile = v; return this; }
        public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
        public Builder storeTimeout(Duration v) { storeTimeout = v; return this; }
        public Builder sessionWait(Duration v) { sessionWait = v; return this; }
        public Builder sessionWaiters(int v) { sessionWaiters = v; return this; }
        public Builder prefillChunk(int v) { prefillChunk = v; return this; }
        public Builder streamStall(Duration v) { streamStall = v; return this; }
        public Builder parentPid(long v) { parentPid = v; return this; }
        public Builder stateless(boolean v) { stateless = v; return this; }
        public Builder store(StoreSettings v) { store = v; return this; }
        public Builder auth(AuthSettings v) { auth = v; return this; }

        public WorkerConfig build() {
            return new WorkerConfig(host, port, advertiseAddress, workerId, hazelcast, model, kvCacheBytes, capacity,
                    queue, engineThreads, metricsPort, readyFile, shutdownGrace, storeTimeout, sessionWait,
                    sessionWaiters, prefillChunk, streamStall, parentPid, stateless, store, auth);
        }
    }
}

package dev.warmroute.cli;

import ch.qos.logback.classic.Level;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.engine.ModelLocator;
import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Real workers inside the benchmark's JVM ({@link InProcessCluster}: an embedded Hazelcast cluster of their own on
 * 127.0.0.1, port 0), real gRPC servers, the model given. The benchmarks talk to them over gRPC like any client.
 */
final class BenchWorkers implements AutoCloseable {

    private final InProcessCluster<WorkerServer> workers = new InProcessCluster<>("bench",
            WorkerServer::hazelcastAddress);
    final Path model;

    /** Starts {@code n} workers; logs of warmroute and Hazelcast are turned down to warnings unless verbose. */
    BenchWorkers(Path modelOrNull, int n, int threads, int kvCacheMb, boolean verbose) throws IOException {
        this(modelOrNull, n, threads, kvCacheMb, verbose, null);
    }

    /** As above, with the sessions map written through to {@code store} (null: memory only). */
    BenchWorkers(Path modelOrNull, int n, int threads, int kvCacheMb, boolean verbose,
            dev.warmroute.cluster.store.StoreSettings store) throws IOException {
        if (!verbose) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.warmroute")).setLevel(Level.WARN);
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("com.hazelcast")).setLevel(Level.ERROR);
        }
        try {
            model = modelOrNull != null ? modelOrNull : ModelLocator.referenceModel(System.getenv());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (!Files.isRegularFile(model)) {
            throw new UserError("--model: " + model + " is not a file");
        }
        try {
            for (int i = 0; i < n; i++) {
                workers.add((cluster, seeds) -> WorkerServer.start(WorkerConfig.builder().port(0)
                        .hazelcast(HazelcastSettings.builder().clusterName(cluster).port(0).members(seeds).build())
                        .model(model).kvCacheMb(kvCacheMb).capacity(1).queue(4).engineThreads(threads).store(store).build()));
            }
        } catch (dev.warmroute.engine.ModelLoadException e) {
            close();
            throw new UserError("--model: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    WorkerServer get(int i) {
        return workers.get(i);
    }

    /**
     * Copies a session's stored record under a new id: the same history, which a worker that never held the new id
     * can only serve from the record (cold). Valid for comparing answers at temperature 0, where the session id does
     * not enter the sampling.
     */
    void cloneSession(String from, String to) {
        var map = workers.get(0).hazelcast().<String, SessionRecord>getMap(ClusterMaps.SESSIONS);
        SessionRecord r = map.get(from);
        if (r == null) {
            throw new IllegalStateException("session " + from + " is missing");
        }
        map.put(to, new SessionRecord(to, r.owner(), r.modelId(), r.systemPrompt(), r.systemTokens(),
                r.tokenizerFingerprint(), r.settings(), r.turns(), r.windowStart(), r.version(), r.createTimeMs(),
                r.updateTimeMs()));
    }

    @Override
    public void close() {
        workers.close();
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static double percentile(List<Double> values, double p) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}

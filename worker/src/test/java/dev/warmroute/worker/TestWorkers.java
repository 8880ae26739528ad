package dev.warmroute.worker;

import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.testing.TestModel;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Real workers in the test JVM: 127.0.0.1, port 0 everywhere, a cluster of their own, the tests' model
 * ({@link TestModel}: the reference model, or a synthetic one where it is absent). The worker-specific half of the
 * harness (its config); starting and stopping several of them is {@link InProcessCluster}'s job.
 */
final class TestWorkers {

    private TestWorkers() {}

    /** A fresh cluster of in-JVM workers; {@link #add} starts each. */
    static InProcessCluster<WorkerServer> cluster() {
        return new InProcessCluster<>("test", WorkerServer::hazelcastAddress);
    }

    /** Starts a worker with test settings in {@code cluster}. */
    static WorkerServer add(InProcessCluster<WorkerServer> cluster) throws IOException {
        return add(cluster, b -> { });
    }

    static WorkerServer add(InProcessCluster<WorkerServer> cluster, Consumer<WorkerConfig.Builder> tweak)
            throws IOException {
        return cluster.add((name, seeds) -> WorkerServer.start(config(name, seeds, tweak)));
    }

    /** A worker config with test settings; {@code seeds} are Hazelcast members to join (empty for the first). */
    static WorkerConfig config(String cluster, List<String> seeds, Consumer<WorkerConfig.Builder> tweak) {
        HazelcastSettings hz = HazelcastSettings.builder().clusterName(cluster).port(0).members(seeds).build();
        WorkerConfig.Builder b = WorkerConfig.builder().port(0).hazelcast(hz).model(TestModel.path())
                .kvCacheMb(16).capacity(2).queue(8).engineThreads(1).shutdownGrace(Duration.ofSeconds(10))
                .storeTimeout(Duration.ofSeconds(20)).sessionWait(Duration.ofSeconds(60));
        tweak.accept(b);
        return b.build();
    }
}

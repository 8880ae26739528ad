package dev.warmroute.worker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmroute.cluster.HazelcastSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/** Real workers for tests: 127.0.0.1, port 0 everywhere, a cluster name of their own, the reference model. */
final class TestWorkers {

    private TestWorkers() {}

    /** The reference model, or the test is skipped with where to put it. */
    static Path referenceModelOrSkip() {
        String env = System.getenv("WARMROUTE_SHARED");
        String dir = env != null && !env.isBlank() ? env : System.getProperty("warmroute.shared.dir", "../shared");
        Path p = Path.of(dir, "models", ModelLocator.REFERENCE_MODEL);
        assumeTrue(Files.isRegularFile(p), "reference model missing: put " + ModelLocator.REFERENCE_MODEL + " into "
                + p.getParent().toAbsolutePath() + " (or set WARMROUTE_SHARED)");
        return p;
    }

    static String clusterName() {
        return "test-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A worker config with test settings; {@code seeds} are Hazelcast members to join (empty for the first). */
    static WorkerConfig config(String cluster, List<String> seeds, Consumer<WorkerConfig.Builder> tweak) {
        HazelcastSettings hz = HazelcastSettings.builder().clusterName(cluster).port(0).members(seeds).build();
        WorkerConfig.Builder b = WorkerConfig.builder().port(0).hazelcast(hz).model(referenceModelOrSkip())
                .kvCacheMb(16).capacity(2).queue(8).engineThreads(1).shutdownGrace(Duration.ofSeconds(10))
                .storeTimeout(Duration.ofSeconds(20)).sessionWait(Duration.ofSeconds(60));
        tweak.accept(b);
        return b.build();
    }

    /** Closes each in order, going on past failures (test teardown: the next test class must still start). */
    static void closeQuietly(AutoCloseable... all) {
        for (AutoCloseable c : all) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static WorkerServer start(String cluster, List<String> seeds) throws IOException {
        return WorkerServer.start(config(cluster, seeds, b -> { }));
    }

    static WorkerServer start(String cluster, List<String> seeds, Consumer<WorkerConfig.Builder> tweak)
            throws IOException {
        return WorkerServer.start(config(cluster, seeds, tweak));
    }
}

package dev.warmroute.testing;

import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Real workers and routers for a test, each in its own JVM on 127.0.0.1: the {@link LocalCluster} that {@code cluster
 * up} and the drills run, with test settings (every port 0, a cluster name of its own, {@link TestModel#path()}, one
 * compute thread, small heaps, 300 s for a child to get ready: a bound for a broken start, generous because a 2-core
 * machine shared with other builds can take minutes). {@link #start} returns once every router sees every worker
 * SERVING and the cluster safe. Each child watches this JVM's pid, so a crashed test run leaves no process behind.
 *
 * <p>Start one per test (it is cheap next to what a test of failover does) and let the test change it: kill, restart
 * and add workers. {@link #close()} kills what is left (kill -9: nothing here tests a graceful stop) and keeps the
 * children's logs in {@code target/cluster-logs/NAME/}, where a failed CI run can be read.
 */
public final class TestCluster implements AutoCloseable {

    private final LocalCluster cluster;
    private final List<ChatClient> clients = new ArrayList<>();

    private TestCluster(LocalCluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Starts {@code workers} workers (w1, w2, ...) and the routers {@code options} adds (by default one, "router"),
     * logs and ready files in {@code dir} (a test's temporary folder).
     */
    public static TestCluster start(Path dir, int workers, UnaryOperator<LocalClusterOptions.Builder> options)
            throws IOException, InterruptedException {
        LocalClusterOptions.Builder b = LocalClusterOptions.builder(TestModel.path(), dir).workers(workers)
                .clusterName(InProcessCluster.freshName("test")).routerPort(0).workerThreads(1).kvCacheMb(16)
                .capacity(2).queue(16).shutdownGrace(Duration.ofSeconds(5)).readyTimeout(Duration.ofSeconds(300))
                .workerJvmFlags(List.of("-Xmx256m", "-XX:+UseSerialGC"))
                .routerJvmFlags(List.of("-Xmx192m", "-XX:+UseSerialGC"));
        return new TestCluster(LocalCluster.start(options.apply(b).build(), line -> { }));
    }

    /** {@code workers} workers and one router. */
    public static TestCluster start(Path dir, int workers) throws IOException, InterruptedException {
        return start(dir, workers, b -> b);
    }

    /** The launcher underneath, for what this class does not wrap (pause, stop, status waits). */
    public LocalCluster local() {
        return cluster;
    }

    public String name() {
        return cluster.options().clusterName();
    }

    public LocalCluster.Node worker(String id) {
        return cluster.worker(id);
    }

    public LocalCluster.Node router(String id) {
        return cluster.router(id);
    }

    /** A client of router {@code id}, closed with the cluster. */
    public ChatClient clientOf(String routerId) {
        return track(new ChatClient(cluster.router(routerId).grpcAddress()));
    }

    /** A client of worker {@code id} (straight to it, no router), closed with the cluster. */
    public ChatClient clientOfWorker(String workerId) {
        return track(new ChatClient(cluster.worker(workerId).grpcAddress()));
    }

    /** Closes {@code c} with the cluster. */
    public synchronized ChatClient track(ChatClient c) {
        clients.add(c);
        return c;
    }

    /** kill -9 of a worker: no shutdown hook, no goodbye to the cluster. */
    public void kill(String workerId) throws InterruptedException {
        cluster.kill(workerId);
    }

    /** Starts a killed worker again (same id) on fresh ports; returns once it is ready. */
    public LocalCluster.Node restart(String workerId) throws IOException, InterruptedException {
        return cluster.restart(workerId, false);
    }

    /** One more worker (the next id) joins; returns once it is ready. */
    public LocalCluster.Node addWorker() throws IOException, InterruptedException {
        return cluster.addWorker();
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            clients.forEach(ChatClient::close);
            clients.clear();
        }
        List<LocalCluster.Node> all = new ArrayList<>(cluster.routers());
        all.addAll(cluster.workers());
        for (LocalCluster.Node n : all) {
            if (n.process() != null) {
                try {
                    n.process().close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        cluster.close();
        Path keep = Path.of("target", "cluster-logs", name());
        Files.createDirectories(keep);
        try (var logs = Files.list(cluster.options().dir())) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                Files.copy(log, keep.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}

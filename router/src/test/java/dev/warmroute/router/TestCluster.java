package dev.warmroute.router;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmroute.cluster.JvmLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Real workers ({@code WorkerMain}, the reference model) and real routers ({@link RouterMain}) in their own JVMs on
 * 127.0.0.1, every port 0, a cluster name of their own. Each child watches this JVM's pid, so a crashed test leaves no
 * process behind.
 */
final class TestCluster implements AutoCloseable {

    /** A started child and what its ready file said. */
    record Node(String id, JvmLauncher.ChildProcess process, Map<String, String> ready) {
        String address() {
            return ready.get("address");
        }

        String hazelcast() {
            return "127.0.0.1:" + ready.get("hazelcast_port");
        }
    }

    final Path dir;
    final String name = "rt-" + UUID.randomUUID().toString().substring(0, 8);
    final Path model;
    final Map<String, Node> workers = new LinkedHashMap<>();
    final Map<String, Node> routers = new LinkedHashMap<>();
    private int launches;

    TestCluster(Path dir) {
        this.dir = dir;
        this.model = referenceModelOrSkip();
    }

    /** The reference model, or the test is skipped with where to put it. */
    static Path referenceModelOrSkip() {
        String env = System.getenv("WARMROUTE_SHARED");
        String shared = env != null && !env.isBlank() ? env : System.getProperty("warmroute.shared.dir", "../shared");
        Path p = Path.of(shared, "models", "stories260K.gguf");
        assumeTrue(Files.isRegularFile(p), "reference model missing: put stories260K.gguf into "
                + p.getParent().toAbsolutePath() + " (or set WARMROUTE_SHARED)");
        return p;
    }

    private String parent() {
        return String.valueOf(ProcessHandle.current().pid());
    }

    /** Hazelcast addresses of the live workers (seeds for newcomers and routers). */
    List<String> seeds() {
        List<String> s = new ArrayList<>();
        for (Node n : workers.values()) {
            if (n.process().isAlive()) {
                s.add(n.hazelcast());
            }
        }
        return s;
    }

    CompletableFuture<Node> launchWorker(String id) throws IOException {
        String file = id + "-" + (++launches);
        Path ready = dir.resolve(file + ".ready");
        List<String> args = new ArrayList<>(List.of("--worker-id", id, "--port", "0", "--hazelcast-port", "0",
                "--cluster-name", name, "--model", model.toString(), "--threads", "1", "--kv-cache-mb", "16",
                "--capacity", "2", "--queue", "16", "--shutdown-grace-seconds", "5", "--ready-file", ready.toString(),
                "--parent-pid", parent()));
        List<String> seeds = seeds();
        if (!seeds.isEmpty()) {
            args.addAll(List.of("--members", String.join(",", seeds)));
        }
        JvmLauncher.ChildProcess p = JvmLauncher.start(id, "dev.warmroute.worker.WorkerMain", args,
                List.of("-Xmx256m", "-XX:+UseSerialGC"), Map.of(),
                dir.resolve(file + ".log"));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new Node(id, p, p.awaitReady(ready, Duration.ofSeconds(120)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Starts workers: the first alone (it is the seed), the others together. */
    void startWorkers(String... ids) throws Exception {
        int i = 0;
        if (workers.isEmpty()) {
            Node first = launchWorker(ids[0]).get();
            workers.put(first.id(), first);
            i = 1;
        }
        List<CompletableFuture<Node>> rest = new ArrayList<>();
        for (; i < ids.length; i++) {
            rest.add(launchWorker(ids[i]));
        }
        for (CompletableFuture<Node> f : rest) {
            Node n = f.get();
            workers.put(n.id(), n);
        }
    }

    void startRouters(Map<String, List<String>> routerArgs) throws Exception {
        List<CompletableFuture<Node>> all = new ArrayList<>();
        for (var e : routerArgs.entrySet()) {
            String file = e.getKey() + "-" + (++launches);
            Path ready = dir.resolve(file + ".ready");
            List<String> args = new ArrayList<>(List.of("--router-id", e.getKey(), "--port", "0", "--cluster-name",
                    name, "--members", String.join(",", seeds()), "--ready-file", ready.toString(),
                    "--shutdown-grace-seconds", "5", "--parent-pid", parent()));
            args.addAll(e.getValue());
            JvmLauncher.ChildProcess p = JvmLauncher.start(e.getKey(), RouterMain.class.getName(), args,
                    List.of("-Xmx192m", "-XX:+UseSerialGC"), Map.of(), dir.resolve(file + ".log"));
            String id = e.getKey();
            all.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return new Node(id, p, p.awaitReady(ready, Duration.ofSeconds(120)));
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            }));
        }
        for (CompletableFuture<Node> f : all) {
            Node n = f.get();
            routers.put(n.id(), n);
        }
    }

    /** kill -9. */
    void kill(String workerId) throws InterruptedException {
        workers.get(workerId).process().kill();
    }

    @Override
    public void close() throws Exception {
        for (Node n : routers.values()) {
            n.process().close();
        }
        for (Node n : workers.values()) {
            n.process().close();
        }
        // Keep the children's logs where a failed CI run can be read (the temporary folder goes away).
        Path keep = Path.of("target", "cluster-logs", name);
        Files.createDirectories(keep);
        try (var logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                Files.copy(log, keep.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}

package dev.warmroute.cli.cluster;

import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.JvmLauncher;
import dev.warmroute.router.RouterMain;
import dev.warmroute.worker.WorkerMain;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A router and N workers on 127.0.0.1, each in its own JVM ({@link JvmLauncher}), forming one embedded Hazelcast
 * cluster: what {@code warmroute cluster up} runs, and what the drills start, break and repair.
 *
 * <p>Ports are either all picked by the OS ({@code routerPort = 0}: tests, drills, benchmarks — no clash with a
 * running cluster) or fixed and derived from the router's port (worker i serves gRPC on routerPort + i and Hazelcast
 * on hazelcastPort + i - 1), so a person can type them. Every child gets this JVM's pid ({@code --parent-pid}) and
 * exits when it is gone, even after a kill -9. Logs and ready files live in {@code dir}.
 *
 * <p>Faults (for drills) act on a worker by id: {@link #kill} (SIGKILL), {@link #stop} (SIGTERM, graceful),
 * {@link #pause}/{@link #resume} (SIGSTOP/SIGCONT: a process that is alive but answers nothing), {@link #restart}
 * (same id and ports), {@link #addWorker} (a newcomer joins).
 */
public final class LocalCluster implements AutoCloseable {

    /** One child process: its launch arguments (kept for a restart) and what its ready file said. */
    public static final class Node {
        private final String role;
        private final String id;
        private final Path readyFile;
        private volatile List<String> args;
        private volatile JvmLauncher.ChildProcess process;
        private volatile Map<String, String> ready = Map.of();
        private volatile boolean paused;
        private int launches;

        Node(String role, String id, Path readyFile) {
            this.role = role;
            this.id = id;
            this.readyFile = readyFile;
        }

        public String role() {
            return role;
        }

        public String id() {
            return id;
        }

        /** host:port of its gRPC server. */
        public String grpcAddress() {
            return ready.getOrDefault("address", "");
        }

        /** host:port of its Hazelcast member, empty for the router (a client). */
        public String hazelcastAddress() {
            String p = ready.get("hazelcast_port");
            return p == null ? "" : "127.0.0.1:" + p;
        }

        public int grpcPort() {
            return Integer.parseInt(ready.getOrDefault("grpc_port", "0"));
        }

        public int hazelcastPort() {
            return Integer.parseInt(ready.getOrDefault("hazelcast_port", "0"));
        }

        /** Port of its OpenAI-compatible HTTP front, 0 when it has none. */
        public int httpPort() {
            return Integer.parseInt(ready.getOrDefault("http_port", "0"));
        }

        /** http://127.0.0.1:port of its HTTP front, empty when it has none. */
        public String httpAddress() {
            return httpPort() == 0 ? "" : "http://127.0.0.1:" + httpPort();
        }

        public long pid() {
            return process == null ? -1 : process.pid();
        }

        public Path log() {
            return process == null ? null : process.log();
        }

        public boolean isAlive() {
            return process != null && process.isAlive();
        }

        public boolean isPaused() {
            return paused;
        }

        public JvmLauncher.ChildProcess process() {
            return process;
        }

        public Map<String, String> ready() {
            return ready;
        }
    }

    private final LocalClusterOptions options;
    private final Consumer<String> progress;
    private final Map<String, Node> workers = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile Node router;
    private volatile boolean closed;

    /** A cluster not started yet: {@link #start()} starts it; {@link #stopAll()} may run at any time (Ctrl-C). */
    public LocalCluster(LocalClusterOptions options, Consumer<String> progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Creates and starts a cluster (see {@link #start()}). */
    public static LocalCluster start(LocalClusterOptions options, Consumer<String> progress)
            throws IOException, InterruptedException {
        LocalCluster c = new LocalCluster(options, progress);
        c.start();
        return c;
    }

    /**
     * Starts the workers (the first alone, as the seed; the others together), then the router, and waits until the
     * router reports every worker SERVING and the cluster safe. On failure everything started is stopped and the
     * IOException names the child and the end of its log.
     */
    public void start() throws IOException, InterruptedException {
        try {
            Files.createDirectories(options.dir());
            startWorkers();
            if (closed) {
                throw new IOException("stopped while starting");
            }
            startRouter();
            awaitHealthy(options.workers(), options.readyTimeout());
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public LocalClusterOptions options() {
        return options;
    }

    public Node router() {
        return router;
    }

    /** The workers started so far, in start order (dead ones included). */
    public List<Node> workers() {
        synchronized (workers) {
            return List.copyOf(workers.values());
        }
    }

    public Node worker(String id) {
        Node n = workers.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no worker " + id + "; workers are " + workers.keySet());
        }
        return n;
    }

    /** The model id the workers serve (from the first worker's ready file), empty before any is ready. */
    public String modelId() {
        return workers().stream().map(w -> w.ready().getOrDefault("model_id", "")).filter(id -> !id.isEmpty())
                .findFirst().orElse("");
    }

    /** Router's gRPC address: what clients talk to. */
    public String target() {
        return router.grpcAddress();
    }

    /** Every pid started, router first. */
    public List<Long> pids() {
        List<Long> out = new ArrayList<>();
        if (router != null && router.process != null) {
            out.add(router.pid());
        }
        for (Node n : workers()) {
            if (n.process != null) {
                out.add(n.pid());
            }
        }
        return out;
    }

    private void startWorkers() throws IOException, InterruptedException {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= options.workers(); i++) {
            nodes.add(newWorker(i));
        }
        progress.accept("starting worker " + nodes.getFirst().id + " (the Hazelcast seed) ...");
        launch(nodes.getFirst(), List.of()).join();
        List<CompletableFuture<Node>> rest = new ArrayList<>();
        if (nodes.size() > 1) {
            progress.accept("starting workers " + String.join(", ", nodes.subList(1, nodes.size()).stream()
                    .map(Node::id).toList()) + " ...");
        }
        for (Node n : nodes.subList(1, nodes.size())) {
            rest.add(launch(n, seeds()));
        }
        await(rest);
    }

    private Node newWorker(int index) {
        String id = "w" + index;
        Node n = new Node("worker", id, options.dir().resolve(id + ".ready"));
        int grpc = options.routerPort() == 0 ? 0 : options.firstWorkerPort() + index - 1;
        int hz = options.routerPort() == 0 ? 0 : options.firstHazelcastPort() + index - 1;
        int http = options.routerPort() == 0 || options.httpPort() <= 0 ? options.httpPort()
                : options.httpPort() + index;
        n.args = workerArgs(id, grpc, hz, http, n.readyFile);
        workers.put(id, n);
        return n;
    }

    /** @param httpPort the worker's HTTP front's port, -1 for none */
    private List<String> workerArgs(String id, int grpcPort, int hazelcastPort, int httpPort, Path ready) {
        List<String> a = new ArrayList<>(List.of("--worker-id", id, "--port", String.valueOf(grpcPort),
                "--hazelcast-port", String.valueOf(hazelcastPort), "--cluster-name", options.clusterName(),
                "--model", options.model().toString(), "--threads", String.valueOf(options.workerThreads()),
                "--kv-cache-mb", String.valueOf(options.kvCacheMb()), "--capacity",
                String.valueOf(options.capacity()), "--heartbeat-ms", String.valueOf(options.heartbeat().toMillis()),
                "--max-no-heartbeat-ms", String.valueOf(options.maxNoHeartbeat().toMillis()),
                "--shutdown-grace-seconds", String.valueOf(options.shutdownGrace().toSeconds()),
                "--ready-file", ready.toString(), "--parent-pid", String.valueOf(options.parentPid()),
                "--queue", String.valueOf(options.queue())));
        if (options.statelessWorkers()) {
            a.add("--stateless");
        }
        if (httpPort >= 0) {
            a.addAll(List.of("--http-port", String.valueOf(httpPort)));
        }
        a.addAll(options.extraWorkerArgs());
        return a;
    }

    private void startRouter() throws IOException, InterruptedException {
        Node n = new Node("router", "router", options.dir().resolve("router.ready"));
        n.args = new ArrayList<>(List.of("--router-id", "router", "--port", String.valueOf(options.routerPort()),
                "--cluster-name", options.clusterName(), "--heartbeat-ms",
                String.valueOf(options.heartbeat().toMillis()), "--max-no-heartbeat-ms",
                String.valueOf(options.maxNoHeartbeat().toMillis()), "--shutdown-grace-seconds",
                String.valueOf(options.shutdownGrace().toSeconds()), "--ready-file", n.readyFile.toString(),
                "--parent-pid", String.valueOf(options.parentPid()), "--placement", options.placement().flag()));
        if (options.httpPort() >= 0) {
            n.args.addAll(List.of("--http-port", String.valueOf(options.routerPort() == 0 ? 0 : options.httpPort())));
        }
        n.args.addAll(options.extraRouterArgs());
        router = n;
        progress.accept("starting the router ...");
        launch(n, seeds()).join();
    }

    /** Hazelcast addresses of the live workers. */
    public List<String> seeds() {
        List<String> out = new ArrayList<>();
        for (Node n : workers()) {
            if (n.isAlive() && !n.hazelcastAddress().isEmpty()) {
                out.add(n.hazelcastAddress());
            }
        }
        return out;
    }

    /** Starts the node's JVM with its arguments plus {@code --members}, and completes when its ready file appears. */
    private CompletableFuture<Node> launch(Node n, List<String> members) throws IOException {
        if (closed) {
            throw new IOException("cluster stopped; not starting " + n.id);
        }
        List<String> args = new ArrayList<>(n.args);
        if (!members.isEmpty()) {
            args.addAll(List.of("--members", String.join(",", members)));
        }
        Files.deleteIfExists(n.readyFile);
        String logName = n.id + (n.launches == 0 ? "" : "-" + (n.launches + 1)) + ".log";
        n.launches++;
        String main = n.role.equals("router") ? RouterMain.class.getName() : WorkerMain.class.getName();
        List<String> jvm = n.role.equals("router") ? options.routerJvmFlags() : options.workerJvmFlags();
        JvmLauncher.ChildProcess p = JvmLauncher.start(n.id, main, args, jvm, Map.of(),
                options.dir().resolve(logName));
        n.process = p;
        n.paused = false;
        return CompletableFuture.supplyAsync(() -> {
            try {
                n.ready = p.awaitReady(n.readyFile, options.readyTimeout());
                return n;
            } catch (IOException e) {
                throw new CompletionException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
            }
        });
    }

    private static void await(List<CompletableFuture<Node>> futures) throws IOException {
        for (CompletableFuture<Node> f : futures) {
            try {
                f.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw e;
            }
        }
    }

    /**
     * Waits until the router lists {@code expected} workers, all SERVING, and the cluster is safe (every backup in
     * place).
     */
    public ClusterStatus awaitHealthy(int expected, Duration within) throws IOException, InterruptedException {
        return awaitStatus(s -> s.getWorkersCount() == expected && s.getClusterSafe()
                && s.getWorkersList().stream().allMatch(w -> w.getHealth() == WorkerHealth.WORKER_HEALTH_SERVING),
                within, expected + " workers serving and the cluster safe");
    }

    /** Waits until the router says the cluster is safe (every partition's backups in place). */
    public ClusterStatus awaitSafe(Duration within) throws IOException, InterruptedException {
        return awaitStatus(ClusterStatus::getClusterSafe, within, "the cluster safe");
    }

    /** Polls the router's status (each call with a short deadline) until {@code condition} holds. */
    public ClusterStatus awaitStatus(Predicate<ClusterStatus> condition, Duration within, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        String last = "no answer yet";
        try (AdminClient admin = new AdminClient(target())) {
            while (System.nanoTime() < deadline) {
                if (!router.isAlive()) {
                    throw new IOException("router exited; last lines of " + router.log() + ":\n"
                            + router.process.tail(20));
                }
                try {
                    ClusterStatus s = admin.status(false, Duration.ofSeconds(3));
                    if (condition.test(s)) {
                        return s;
                    }
                    last = describe(s);
                } catch (StatusRuntimeException e) {
                    last = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                }
                Thread.sleep(100);
            }
        }
        throw new IOException("waited " + within.toSeconds() + " s for " + what + "; last status: " + last);
    }

    private static String describe(ClusterStatus s) {
        StringBuilder sb = new StringBuilder("cluster_safe=" + s.getClusterSafe() + " workers=[");
        for (WorkerStatus w : s.getWorkersList()) {
            sb.append(' ').append(w.getWorkerId()).append(':').append(w.getHealth().name()
                    .replace("WORKER_HEALTH_", ""));
        }
        return sb.append(" ]").toString();
    }

    /** kill -9 of a worker: no shutdown hook, no goodbye to Hazelcast. */
    public void kill(String workerId) throws InterruptedException {
        Node n = worker(workerId);
        n.process.kill();
        n.paused = false;
    }

    /** SIGTERM: the worker stops gracefully (turns finish, partitions migrate); waits for its exit. */
    public int stop(String workerId, Duration within) throws InterruptedException {
        Node n = worker(workerId);
        return n.process.stop(within);
    }

    /** SIGSTOP: the process stays alive and keeps its sockets open but answers nothing (a hung machine). */
    public void pause(String workerId) throws IOException, InterruptedException {
        Node n = worker(workerId);
        signal(n, "STOP");
        n.paused = true;
    }

    /** SIGCONT after {@link #pause}. */
    public void resume(String workerId) throws IOException, InterruptedException {
        Node n = worker(workerId);
        signal(n, "CONT");
        n.paused = false;
    }

    private static void signal(Node n, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(n.pid())).redirectErrorStream(true)
                .start();
        String output = new String(kill.getInputStream().readAllBytes()).strip();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + n.pid() + " failed: " + output);
        }
    }

    /**
     * Starts a dead worker again with the same id and the same gRPC and Hazelcast ports, joining the live workers;
     * returns when it is ready (serving and registered).
     */
    public Node restart(String workerId) throws IOException, InterruptedException {
        Node n = worker(workerId);
        if (n.isAlive()) {
            throw new IllegalStateException(workerId + " is still running (pid " + n.pid() + ")");
        }
        int grpc = n.grpcPort();
        int hz = n.hazelcastPort();
        int http = options.httpPort() < 0 ? -1 : n.httpPort();
        n.args = workerArgs(n.id, grpc, hz, http, n.readyFile);
        await(List.of(launch(n, seeds())));
        return n;
    }

    /** Starts one more worker (id w{n+1}) that joins the cluster; returns when it is ready. */
    public Node addWorker() throws IOException, InterruptedException {
        Node n;
        synchronized (workers) {
            n = newWorker(workers.size() + 1);
        }
        await(List.of(launch(n, seeds())));
        return n;
    }

    /**
     * Stops everything: SIGCONT to paused workers, SIGTERM to the router and all workers at once (each stops
     * gracefully), waits up to the shutdown grace plus a margin, then kill -9 whatever is left. Returns the pids
     * still alive afterwards (none, unless the OS refused).
     */
    public List<Long> stopAll() {
        closed = true;
        List<Node> all = new ArrayList<>();
        if (router != null) {
            all.add(router);
        }
        all.addAll(workers());
        for (Node n : all) {
            if (n.isAlive() && n.paused) {
                try {
                    signal(n, "CONT");
                } catch (IOException | InterruptedException e) {
                    // kill -9 below still works on a stopped process
                }
            }
        }
        for (Node n : all) {
            if (n.isAlive()) {
                n.process.process().destroy();
            }
        }
        long deadline = System.nanoTime() + options.shutdownGrace().plusSeconds(10).toNanos();
        for (Node n : all) {
            if (n.process == null) {
                continue;
            }
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!n.process.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                    progress.accept(n.id + " (pid " + n.pid() + ") did not stop in time: kill -9");
                    n.process.kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                n.process.process().destroyForcibly();
            }
        }
        List<Long> alive = new ArrayList<>();
        for (Node n : all) {
            if (n.isAlive()) {
                alive.add(n.pid());
            }
        }
        return alive;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            stopAll();
        }
    }
}

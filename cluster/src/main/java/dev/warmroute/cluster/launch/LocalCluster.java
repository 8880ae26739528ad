package dev.warmroute.cluster.launch;

import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.ServerMain;
import dev.warmroute.cluster.auth.TokenFile;
import dev.warmroute.cluster.tls.DevCertificates;
import dev.warmroute.cluster.store.StoreServerMain;
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
 * N workers and their routers (usually one) on 127.0.0.1, each in its own JVM ({@link JvmLauncher}), forming one
 * embedded Hazelcast cluster: what {@code warmroute cluster up} runs, what the drills and benchmarks start, break and
 * repair, and what the tests' cluster harness (test-fixtures' {@code TestCluster}) starts with test settings. It lives
 * here, below the worker and the router, so that each of their own test suites can use it: every child runs
 * {@link ServerMain} with the role's name ("worker", "router"), whose module must be on the classpath.
 *
 * <p>Ports are either all picked by the OS ({@code routerPort = 0}: tests, drills, benchmarks — no clash with a
 * running cluster) or fixed and derived from the router's port (worker i serves gRPC on routerPort + i and Hazelcast
 * on hazelcastPort + i - 1), so a person can type them. Every child gets this JVM's pid ({@code --parent-pid}) and
 * exits when it is gone, even after a kill -9. Logs and ready files live in {@code dir}.
 *
 * <p>Faults (for drills) act on a worker by id: {@link #kill} (SIGKILL), {@link #stop} (SIGTERM, graceful),
 * {@link #pause}/{@link #resume} (SIGSTOP/SIGCONT: a process that is alive but answers nothing), {@link #restart}
 * (same id and ports), {@link #addWorker} (a newcomer joins), {@link #killAll} and {@link #startAgain} (a full
 * restart: only the history store keeps anything).
 *
 * <p>With a data folder ({@code --data}), history lives in an H2 database there, served to the workers by a store
 * process of its own ({@link StoreServerMain}) that starts first and stops last; with {@code --store} the workers use
 * an external database. Workers get {@code --cluster-size} = the number of workers, so a minority refuses writes.
 *
 * <p>With an HTTP port ({@code httpPort} &ge; 0) every router and every worker also serves the OpenAI-compatible
 * front ({@code --http-port}; its port in the ready file, {@link Node#httpAddress()}).
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

        private final String host;

        Node(String role, String id, Path readyFile, String host) {
            this.role = role;
            this.id = id;
            this.readyFile = readyFile;
            this.host = host;
        }

        /** The address it binds (127.0.0.1 unless the cluster's {@link NetworkPlan} says otherwise). */
        public String host() {
            return host;
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
            return p == null ? "" : host + ":" + p;
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

        /** http://host:port of its HTTP front, empty when it has none. */
        public String httpAddress() {
            return httpPort() == 0 ? "" : "http://" + host + ":" + httpPort();
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
    private final Map<String, Node> routers = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile Node store;
    private volatile boolean closed;
    private volatile String devToken;
    private volatile Path tokenFile;
    private volatile DevCertificates.Written certificates;

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
     * Starts the first worker alone (the seed), then the other workers and the routers together, and waits until
     * every router reports every worker SERVING and the cluster safe (without routers: until every worker is ready).
     * On failure everything started is stopped and the IOException names the child and the end of its log.
     */
    public void start() throws IOException, InterruptedException {
        try {
            Files.createDirectories(options.dir());
            writeDevToken();
            writeDevCertificates();
            startStore();
            List<CompletableFuture<Node>> workersStarting = startWorkers();
            if (closed) {
                throw new IOException("stopped while starting");
            }
            // The routers need one member to connect to (the seed, up by now): they start while the other workers
            // still do, and learn the members from the cluster.
            List<CompletableFuture<Node>> routersStarting = startRouters();
            await(workersStarting);
            await(routersStarting);
            for (Node r : routers()) {
                awaitHealthy(r, options.workers(), options.readyTimeout());
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public LocalClusterOptions options() {
        return options;
    }

    /** The first router (the only one of {@code cluster up}). */
    public Node router() {
        synchronized (routers) {
            if (routers.isEmpty()) {
                throw new IllegalStateException("this cluster has no router");
            }
            return routers.values().iterator().next();
        }
    }

    /** The routers, in the order of the options. */
    public List<Node> routers() {
        synchronized (routers) {
            return List.copyOf(routers.values());
        }
    }

    public Node router(String id) {
        Node n = routers.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no router " + id + "; routers are " + routers.keySet());
        }
        return n;
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

    /** The first router's gRPC address: what clients talk to. */
    public String target() {
        return router().grpcAddress();
    }

    /** The store process (null without a data folder). */
    public Node store() {
        return store;
    }

    /** Every pid started, routers first, the store process last. */
    public List<Long> pids() {
        List<Long> out = new ArrayList<>();
        for (Node n : routers()) {
            if (n.process != null) {
                out.add(n.pid());
            }
        }
        for (Node n : workers()) {
            if (n.process != null) {
                out.add(n.pid());
            }
        }
        if (store != null && store.process != null) {
            out.add(store.pid());
        }
        return out;
    }

    /** Starts (or starts again) the H2 store process over the data folder, when there is one. */
    /**
     * With {@link LocalClusterOptions#auth()}: a token file in {@code dir/auth} (owner-only permissions) holding the
     * hash of one new admin token, principal "dev", which {@link #devToken()} gives to whoever started the cluster.
     * Every start makes a new token; more tokens are lines added to {@link #tokenFile()} (re-read within a second).
     */
    private void writeDevToken() throws IOException {
        if (!options.auth()) {
            return;
        }
        Path dir = Files.createDirectories(options.dir().resolve("auth"));
        Path file = dir.resolve("tokens");
        String token = TokenFile.newToken();
        Files.writeString(file, "# warmroute tokens (sha256 of each token, principal, admin): see docs/security.md\n"
                + TokenFile.hashLine(token, DEV_PRINCIPAL, true) + "\n");
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the folder's own permissions apply
        }
        tokenFile = file;
        devToken = token;
    }

    /**
     * With {@link LocalClusterOptions#tls()}: a CA and certificates in {@code dir/tls} ({@link DevCertificates}),
     * naming every host of the cluster's network plan. Routers serve TLS with the server certificate and present it
     * to the workers, which require it (mutual TLS).
     */
    private void writeDevCertificates() throws IOException {
        if (!options.tls()) {
            return;
        }
        java.util.Set<String> hosts = new java.util.TreeSet<>();
        for (int i = 1; i <= options.workers() + 8; i++) {
            hosts.add(options.network().hostOf("w" + i));
        }
        for (LocalClusterOptions.RouterSpec r : options.routers()) {
            hosts.add(options.network().hostOf(r.id()));
        }
        hosts.remove("127.0.0.1");
        certificates = DevCertificates.write(options.dir().resolve("tls"), List.copyOf(hosts));
    }

    /** The dev certificates of a cluster started with TLS; null when plaintext. */
    public DevCertificates.Written certificates() {
        return certificates;
    }

    /**
     * What a client of this cluster connects with: plaintext, or TLS trusting the dev CA and presenting the dev
     * client certificate (which workers require).
     */
    public io.grpc.ChannelCredentials clientCredentials() {
        if (certificates == null) {
            return io.grpc.InsecureChannelCredentials.create();
        }
        try {
            return io.grpc.TlsChannelCredentials.newBuilder().trustManager(certificates.ca().toFile())
                    .keyManager(certificates.clientCert().toFile(), certificates.clientKey().toFile()).build();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private List<String> tlsArgs(boolean worker) {
        if (certificates == null) {
            return List.of();
        }
        List<String> a = new ArrayList<>(List.of("--tls-cert", certificates.serverCert().toString(), "--tls-key",
                certificates.serverKey().toString(), "--tls-ca", certificates.ca().toString()));
        if (worker) {
            a.addAll(List.of("--tls-client-auth", "require"));
        }
        return a;
    }

    /** The principal of {@link #devToken()}. */
    public static final String DEV_PRINCIPAL = "dev";

    /** The admin token of a cluster started with auth; null when open. */
    public String devToken() {
        return devToken;
    }

    /** The token file every router and worker reads; null when open. */
    public Path tokenFile() {
        return tokenFile;
    }

    private List<String> authArgs() {
        return tokenFile == null ? List.of() : List.of("--auth-tokens", tokenFile.toString());
    }

    private void startStore() throws IOException {
        if (options.data() == null) {
            return;
        }
        Files.createDirectories(options.data());
        if (store == null) {
            store = new Node("store", "store", options.dir().resolve("store.ready"),
                    options.network().hostOf("store"));
        }
        // Started again on the port it had: the workers' connections go back to the same URL.
        String port = store.ready.getOrDefault("port", "0");
        store.args = List.of("--data", options.data().toAbsolutePath().normalize().toString(), "--host", store.host,
                "--port", port,
                "--ready-file", store.readyFile.toString(), "--parent-pid", String.valueOf(options.parentPid()));
        progress.accept("starting the history store (H2 in " + options.data().toAbsolutePath().normalize() + ") ...");
        await(List.of(launch(store, List.of())));
    }

    /**
     * Stops the H2 store process (SIGTERM, or kill -9 with {@code kill}) while everything else runs: a store outage.
     * {@link #restartStore} brings it back on the same port.
     */
    public void stopStore(boolean kill) throws InterruptedException {
        if (store == null) {
            throw new IllegalStateException("this cluster has no store process of its own (no --data)");
        }
        if (kill) {
            store.process.kill();
        } else {
            store.process.stop(Duration.ofSeconds(20));
        }
    }

    /** Starts the H2 store process again after {@link #stopStore}, on the same port and data. */
    public void restartStore() throws IOException {
        startStore();
    }

    /** The store flags of every worker. */
    private List<String> storeArgs() {
        if (store != null) {
            Map<String, String> r = store.ready;
            return List.of("--store", r.get("url"), "--store-user", r.get("user"), "--store-password-file",
                    r.get("password_file"));
        }
        if (!options.store().isEmpty()) {
            List<String> a = new ArrayList<>(List.of("--store", options.store()));
            if (!options.storeUser().isEmpty()) {
                a.addAll(List.of("--store-user", options.storeUser()));
            }
            if (options.storePasswordFile() != null) {
                a.addAll(List.of("--store-password-file", options.storePasswordFile().toString()));
            }
            return a;
        }
        return List.of();
    }

    /** Starts the seed and waits for it; starts the other workers, which it returns still starting. */
    private List<CompletableFuture<Node>> startWorkers() throws IOException {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= options.workers(); i++) {
            nodes.add(newWorker(i));
        }
        progress.accept("starting worker " + nodes.getFirst().id + " (the Hazelcast seed) ...");
        await(List.of(launch(nodes.getFirst(), List.of())));
        List<CompletableFuture<Node>> rest = new ArrayList<>();
        if (nodes.size() > 1) {
            progress.accept("starting workers " + String.join(", ", nodes.subList(1, nodes.size()).stream()
                    .map(Node::id).toList()) + " ...");
        }
        for (Node n : nodes.subList(1, nodes.size())) {
            rest.add(launch(n, seeds()));
        }
        return rest;
    }

    private Node newWorker(int index) {
        String id = "w" + index;
        Node n = new Node("worker", id, options.dir().resolve(id + ".ready"), options.network().hostOf(id));
        int grpc = options.routerPort() == 0 ? 0 : options.firstWorkerPort() + index - 1;
        int hz = options.routerPort() == 0 ? 0 : options.firstHazelcastPort() + index - 1;
        int http = options.routerPort() == 0 || options.httpPort() <= 0 ? options.httpPort()
                : options.httpPort() + index;
        n.args = workerArgs(id, n.host, grpc, hz, http, n.readyFile);
        workers.put(id, n);
        return n;
    }

    /**
     * The {@code --cluster-size} of the workers: the number of workers from three on, so that a side of a split without
     * a majority refuses session reads and writes. With two, a majority is both, and a single killed worker would stop
     * the other too (what the failover drills and tests kill): a pair runs without quorum protection, as one does.
     */
    private int quorumClusterSize() {
        return options.workers() >= 3 ? options.workers() : 1;
    }

    /** @param httpPort the worker's HTTP front's port, -1 for none */
    private List<String> workerArgs(String id, String host, int grpcPort, int hazelcastPort, int httpPort,
            Path ready) {
        List<String> a = new ArrayList<>(List.of("--worker-id", id, "--host", host, "--hazelcast-host", host,
                "--port", String.valueOf(grpcPort),
                "--hazelcast-port", String.valueOf(hazelcastPort), "--cluster-name", options.clusterName(),
                "--model", options.model().toString(), "--threads", String.valueOf(options.workerThreads()),
                "--kv-cache-mb", String.valueOf(options.kvCacheMb()), "--capacity",
                String.valueOf(options.capacity()), "--heartbeat-ms", String.valueOf(options.heartbeat().toMillis()),
                "--max-no-heartbeat-ms", String.valueOf(options.maxNoHeartbeat().toMillis()),
                "--shutdown-grace-seconds", String.valueOf(options.shutdownGrace().toSeconds()),
                "--ready-file", ready.toString(), "--parent-pid", String.valueOf(options.parentPid()),
                "--queue", String.valueOf(options.queue()), "--cluster-size", String.valueOf(quorumClusterSize())));
        a.addAll(storeArgs());
        if (options.statelessWorkers()) {
            a.add("--stateless");
        }
        if (httpPort >= 0) {
            a.addAll(List.of("--http-port", String.valueOf(httpPort)));
        }
        a.addAll(authArgs());
        a.addAll(tlsArgs(true));
        a.addAll(options.extraWorkerArgs());
        return a;
    }

    private List<CompletableFuture<Node>> startRouters() throws IOException {
        List<CompletableFuture<Node>> started = new ArrayList<>();
        for (LocalClusterOptions.RouterSpec spec : options.routers()) {
            Node n = new Node("router", spec.id(), options.dir().resolve(spec.id() + ".ready"),
                    options.network().hostOf(spec.id()));
            n.args = routerArgs(n, spec, options.routerPort());
            routers.put(spec.id(), n);
            progress.accept(options.routers().size() == 1 ? "starting the router ..." : "starting router " + spec.id()
                    + " ...");
            started.add(launch(n, seeds()));
        }
        return started;
    }

    private List<String> routerArgs(Node n, LocalClusterOptions.RouterSpec spec, int port) {
        List<String> a = new ArrayList<>(List.of("--router-id", spec.id(), "--host", n.host,
                "--port", String.valueOf(port),
                "--cluster-name", options.clusterName(), "--heartbeat-ms",
                String.valueOf(options.heartbeat().toMillis()), "--max-no-heartbeat-ms",
                String.valueOf(options.maxNoHeartbeat().toMillis()), "--shutdown-grace-seconds",
                String.valueOf(options.shutdownGrace().toSeconds()), "--ready-file", n.readyFile.toString(),
                "--parent-pid", String.valueOf(options.parentPid()), "--placement", options.placement()));
        if (options.httpPort() >= 0) {
            // Every router has a front of its own; several routers always run on OS-picked ports.
            a.addAll(List.of("--http-port", String.valueOf(port == 0 ? 0 : options.httpPort())));
        }
        a.addAll(authArgs());
        a.addAll(tlsArgs(false));
        if (!options.extraRouterArgs().contains("--admit-queued") && !spec.extraArgs().contains("--admit-queued")) {
            // Tests, drills and benchmarks measure queueing workers unless they say otherwise: the router may fill
            // the workers' queues, as it did before routers bounded workers by their capacity (the router's own
            // default, 0, refuses a turn that finds every worker at capacity).
            a.addAll(List.of("--admit-queued", String.valueOf(options.queue())));
        }
        a.addAll(options.extraRouterArgs());
        a.addAll(spec.extraArgs());
        return a;
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
        List<String> args = new ArrayList<>(n.role.equals("store") ? List.of() : List.of(n.role));
        args.addAll(n.args);
        if (!members.isEmpty()) {
            args.addAll(List.of("--members", String.join(",", members)));
        }
        Files.deleteIfExists(n.readyFile);
        String logName = n.id + (n.launches == 0 ? "" : "-" + (n.launches + 1)) + ".log";
        n.launches++;
        // The store is a process of its own (a database server), not a ServerMain role: see StoreServerMain.
        String main = n.role.equals("store") ? StoreServerMain.class.getName() : ServerMain.class.getName();
        List<String> jvm = n.role.equals("worker") ? options.workerJvmFlags() : options.routerJvmFlags();
        JvmLauncher.ChildProcess p = JvmLauncher.start(n.id, options.network().commandPrefix(n.id), main, args,
                jvm, Map.of(), options.dir().resolve(logName));
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
     * Waits until the first router lists {@code expected} workers, all SERVING, and the cluster is safe (every backup
     * in place).
     */
    public ClusterStatus awaitHealthy(int expected, Duration within) throws IOException, InterruptedException {
        return awaitHealthy(router(), expected, within);
    }

    /** Waits until {@code router} lists {@code expected} workers, all SERVING, and the cluster is safe. */
    public ClusterStatus awaitHealthy(Node router, int expected, Duration within)
            throws IOException, InterruptedException {
        return awaitStatus(router, s -> s.getWorkersCount() == expected && s.getClusterSafe()
                && s.getWorkersList().stream().allMatch(w -> w.getHealth() == WorkerHealth.WORKER_HEALTH_SERVING),
                within, expected + " workers serving and the cluster safe");
    }

    /** Waits until the first router says the cluster is safe (every partition's backups in place). */
    public ClusterStatus awaitSafe(Duration within) throws IOException, InterruptedException {
        return awaitStatus(router(), ClusterStatus::getClusterSafe, within, "the cluster safe");
    }

    /** Polls the first router's status until {@code condition} holds. */
    public ClusterStatus awaitStatus(Predicate<ClusterStatus> condition, Duration within, String what)
            throws IOException, InterruptedException {
        return awaitStatus(router(), condition, within, what);
    }

    /**
     * Polls {@code router}'s status (each call with a short deadline) until {@code condition} holds; IOException
     * with the last status seen when it does not within the time, or at once when the router exits.
     */
    public ClusterStatus awaitStatus(Node router, Predicate<ClusterStatus> condition, Duration within, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        String last = "no answer yet";
        try (AdminClient admin = new AdminClient(router.grpcAddress(), devToken, clientCredentials())) {
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
        throw new IOException("waited " + within.toSeconds() + " s for " + what + " (router " + router.id()
                + "); last status: " + last);
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
        return restart(workerId, true);
    }

    /**
     * Starts a dead worker again with the same id, on its old ports ({@code samePorts}: a machine coming back, as the
     * restart drill does) or on ports picked by the OS (tests: no port is taken twice on a busy machine).
     */
    public Node restart(String workerId, boolean samePorts) throws IOException, InterruptedException {
        Node n = worker(workerId);
        if (n.isAlive()) {
            throw new IllegalStateException(workerId + " is still running (pid " + n.pid() + ")");
        }
        int grpc = samePorts ? n.grpcPort() : 0;
        int hz = samePorts ? n.hazelcastPort() : 0;
        int http = options.httpPort() < 0 ? -1 : samePorts ? n.httpPort() : 0;
        n.args = workerArgs(n.id, n.host, grpc, hz, http, n.readyFile);
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
        List<Node> all = new ArrayList<>(routers());
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
        // The store goes last: turns that were finishing needed it.
        if (store != null && store.isAlive()) {
            try {
                store.process.stop(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                store.process.process().destroyForcibly();
            }
        }
        List<Long> alive = new ArrayList<>();
        for (Node n : all) {
            if (n.isAlive()) {
                alive.add(n.pid());
            }
        }
        if (store != null && store.isAlive()) {
            alive.add(store.pid());
        }
        return alive;
    }

    /**
     * kill -9 of every process at once (router, workers, store): what a power cut does. Only what the store wrote
     * survives; {@link #startAgain} brings the cluster back on the same data.
     */
    public void killAll() throws InterruptedException {
        List<Node> all = new ArrayList<>(routers());
        all.addAll(workers());
        if (store != null) {
            all.add(store);
        }
        for (Node n : all) {
            if (n.process != null && n.isAlive()) {
                n.process.process().destroyForcibly();
            }
        }
        for (Node n : all) {
            if (n.process != null) {
                n.process.process().waitFor();
            }
            n.paused = false;
        }
    }

    /**
     * Starts every process again after {@link #killAll}: the store, the workers and the router with the same ids and
     * the same ports as before (clients reconnect to the same router address); waits until healthy.
     */
    public void startAgain() throws IOException, InterruptedException {
        List<Node> running = pidsAlive();
        if (!running.isEmpty()) {
            throw new IllegalStateException(running.getFirst().id + " is still running (pid "
                    + running.getFirst().pid() + "); killAll first");
        }
        startStore();
        List<Node> nodes = workers();
        for (Node n : nodes) {
            n.args = workerArgs(n.id, n.host, n.grpcPort(), n.hazelcastPort(), options.httpPort() < 0 ? -1 : n.httpPort(),
                    n.readyFile);
        }
        // Every address is known (the same ports as before), so all start at once, each with the others as seeds:
        // they find each other as they come up, and the router (a client) connects when the first one serves.
        List<String> all = new ArrayList<>();
        for (Node n : nodes) {
            all.add(n.hazelcastAddress());
        }
        progress.accept("starting " + nodes.size() + " workers and the router again (same ports) ...");
        List<CompletableFuture<Node>> started = new ArrayList<>();
        for (Node n : nodes) {
            List<String> others = new ArrayList<>(all);
            others.remove(n.hazelcastAddress());
            started.add(launch(n, others));
        }
        for (Node r : routers()) {
            // The same addresses as before (gRPC and HTTP): clients reconnect to them.
            r.args = withPort(withPort(r.args, "--port", r.grpcPort()), "--http-port", r.httpPort());
            started.add(launch(r, all));
        }
        await(started);
        awaitHealthy(nodes.size(), options.readyTimeout());
    }

    /** {@code args} with the value of {@code flag} (a port) replaced by {@code port}; unchanged without the flag. */
    private static List<String> withPort(List<String> args, String flag, int port) {
        List<String> a = new ArrayList<>(args);
        int at = a.indexOf(flag);
        if (at >= 0) {
            a.set(at + 1, String.valueOf(port));
        }
        return a;
    }

    private List<Node> pidsAlive() {
        List<Node> out = new ArrayList<>();
        for (Node n : routers()) {
            if (n.isAlive()) {
                out.add(n);
            }
        }
        for (Node n : workers()) {
            if (n.isAlive()) {
                out.add(n);
            }
        }
        if (store != null && store.isAlive()) {
            out.add(store);
        }
        return out;
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

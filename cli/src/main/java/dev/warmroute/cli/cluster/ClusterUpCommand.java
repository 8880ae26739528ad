package dev.warmroute.cli.cluster;

import dev.warmroute.cli.TextTable;
import dev.warmroute.cli.UserError;
import dev.warmroute.cluster.ReadyFile;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code warmroute cluster up}: a router and N workers on 127.0.0.1, each in its own JVM, one embedded Hazelcast
 * cluster. Stays in the foreground; Ctrl-C (or SIGTERM) stops every child gracefully, and a kill -9 of this process
 * makes the children exit by themselves ({@code --parent-pid}).
 */
@Command(name = "up", description = {
        "Start a router and N workers on 127.0.0.1 as separate JVMs with an embedded Hazelcast cluster, wait until",
        "all are healthy, print their endpoints, and stay in the foreground. Ctrl-C stops them all (gracefully;",
        "no process is left behind, also when this command is killed). Model: --model, else the reference model",
        "(../shared/models, $WARMROUTE_SHARED/models, models/), else a synthetic one written to the run directory.",
        "Ports: router --port, worker i gRPC --port + i, Hazelcast --hazelcast-port + i - 1; --port 0 lets the OS",
        "pick every port. History: an H2 database in --data (default runs/data), served to the workers by a store",
        "process; every start with the same --data finds it again (also after kill -9). --store jdbc:postgresql://...",
        "uses an external database instead; --no-store keeps history in memory only."})
public final class ClusterUpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--workers", defaultValue = "3", description = "Workers to start, 1..16 (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model every worker serves.")
    Path model;

    @Option(names = "--port", defaultValue = "7000",
            description = "Router gRPC port; workers use the next ones; 0 = OS-picked ports (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--hazelcast-port", defaultValue = "5701",
            description = "Hazelcast port of w1; w2 gets the next one, ... (default ${DEFAULT-VALUE}).")
    int hazelcastPort;

    @Option(names = "--http-port", defaultValue = "8000",
            description = "Port of the router's OpenAI-compatible HTTP front (/v1/chat/completions); worker i serves one "
                    + "on --http-port + i; -1 = none; with --port 0 the OS picks these too (default ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Run directory for logs and ready files (default: runs/cluster-<time>).")
    Path dir;

    @Option(names = "--cluster-name", defaultValue = "warmroute",
            description = "Hazelcast cluster name (default ${DEFAULT-VALUE}).")
    String clusterName;

    @Mixin
    LocalClusterFlags cluster = new LocalClusterFlags(-1, 256, 2);

    @Mixin
    StoreFlags storeFlags;

    @Option(names = "--auth", description = {
            "Require bearer tokens on the router and the workers: a token file in DIR/auth with a dev admin token,",
            "printed at start (export WARMROUTE_TOKEN=... for the CLI). Without it the cluster is open: callers",
            "name themselves with x-warmroute-owner."})
    boolean auth;

    @Option(names = "--tls", description = {
            "TLS on every gRPC hop: dev certificates in DIR/tls (a CA made for this run), TLS from clients to the",
            "router, mutual TLS from the router to the workers. Printed at start: export WARMROUTE_TLS_CA=..."})
    boolean tls;

    @Option(names = "--ready-timeout-seconds", defaultValue = "180",
            description = "How long each process may take to start (default ${DEFAULT-VALUE}).")
    long readyTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path runDir = dir != null ? dir.toAbsolutePath().normalize() : RunDirs.fresh("cluster");
        ModelChoice choice;
        LocalClusterOptions options;
        try {
            choice = ModelChoice.resolve(model, runDir, System.getenv());
            LocalClusterOptions.Builder b = cluster.applyTo(LocalClusterOptions.builder(choice.path(), runDir)
                    .workers(workers).routerPort(port).firstHazelcastPort(hazelcastPort).clusterName(clusterName)
                    .readyTimeout(Duration.ofSeconds(readyTimeoutSeconds))
                    .httpPort(port == 0 && httpPort > 0 ? 0 : httpPort).auth(auth).tls(tls)
                    // as in production: a worker is offered at most its capacity, and a turn that finds every
                    // worker full is refused at once (RESOURCE_EXHAUSTED, retry-after) rather than queued
                    .extraRouterArgs(java.util.List.of("--admit-queued", "0")));
            storeFlags.apply(b, RunDirs.data());
            options = b.build();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        out.println("run directory: " + runDir);
        out.println(choice.description());
        out.println(options.data() != null ? "history: H2 store in " + options.data() + " (kept across restarts)"
                : !options.store().isEmpty() ? "history: external store " + options.store()
                : "history: in memory only (--no-store): lost when the cluster stops");
        if (SignalDisposition.sigintIgnored()) {
            out.println("WARN: this process ignores SIGINT (started in the background by a shell without job control):"
                    + " Ctrl-C will not stop it; stop it with kill " + ProcessHandle.current().pid() + " (SIGTERM)");
        }
        out.flush();

        LocalCluster cluster = new LocalCluster(options, line -> {
            out.println(line);
            out.flush();
        });
        Thread hook = new Thread(() -> stop(cluster, out), "cluster-up-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            cluster.start();
        } catch (IOException e) {
            removeHook(hook);
            cluster.close();
            throw new UserError("cluster did not come up: " + e.getMessage(), 1);
        }
        printEndpoints(cluster, choice, out);
        writeReadyFile(cluster, runDir.resolve("cluster.ready"));
        return watch(cluster, out);
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running already
        }
    }

    private void printEndpoints(LocalCluster cluster, ModelChoice choice, PrintWriter out) {
        out.println();
        TextTable t = new TextTable("role", "id", "gRPC", "HTTP (OpenAI)", "Hazelcast", "pid", "log");
        LocalCluster.Node r = cluster.router();
        t.row("router", r.id(), r.grpcAddress(), orNone(r.httpAddress()), "client", r.pid(), r.log());
        for (LocalCluster.Node w : cluster.workers()) {
            t.row("worker", w.id(), w.grpcAddress(), orNone(w.httpAddress()), w.hazelcastAddress(), w.pid(), w.log());
        }
        if (cluster.store() != null) {
            LocalCluster.Node st = cluster.store();
            t.row("store", st.id(), "127.0.0.1:" + st.ready().get("port"), "-", "-", st.pid(), st.log());
        }
        t.print(out, "  ");
        out.println();
        String bin = RunDirs.launcher();
        String target = cluster.target().equals("127.0.0.1:7000") ? "" : " --target " + cluster.target();
        out.println("cluster '" + cluster.options().clusterName() + "' is up: " + cluster.workers().size()
                + " workers serving, cluster safe" + (choice.synthetic() ? " (SYNTHETIC model: answers are not "
                + "language)" : "") + ". Try:");
        out.println("  " + bin + " chat" + target + "                       # interactive; /help for commands");
        out.println("  " + bin + " chat" + target + " --session demo --message \"Once upon a time\"");
        out.println("  " + bin + " status" + target);
        out.println("  " + bin + " drain" + target + " w1 / undrain w1");
        if (!r.httpAddress().isEmpty()) {
            out.println("  curl " + r.httpAddress() + "/v1/chat/completions -H 'content-type: application/json' "
                    + "-H 'x-session-id: demo2' -d '{\"model\": \"" + cluster.modelId() + "\", \"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"Once upon a time\"}]}'");
            out.println("  (any OpenAI client: base URL " + r.httpAddress() + "/v1, model " + cluster.modelId()
                    + ", header x-session-id or field user names the session)");
        }
        if (cluster.certificates() != null) {
            out.println("TLS: clients to the router, mutual TLS to the workers; dev CA " + cluster.certificates().ca()
                    + " (valid 30 days). For the CLI:");
            out.println("  export WARMROUTE_TLS_CA=" + cluster.certificates().ca());
            out.println("  (calling a worker directly: also WARMROUTE_TLS_CERT=" + cluster.certificates().clientCert()
                    + " WARMROUTE_TLS_KEY=" + cluster.certificates().clientKey() + ")");
        } else {
            out.println("TLS: off (plaintext on every gRPC hop; --tls for dev certificates)");
        }
        if (cluster.devToken() != null) {
            out.println("authentication: bearer tokens (token file " + cluster.tokenFile() + "); an admin token for"
                    + " this run, principal '" + LocalCluster.DEV_PRINCIPAL + "':");
            out.println("  export WARMROUTE_TOKEN=" + cluster.devToken());
            out.println("  more: " + bin + " auth token --principal NAME --file " + cluster.tokenFile());
            if (!r.httpAddress().isEmpty()) {
                out.println("  (HTTP: -H 'authorization: Bearer $WARMROUTE_TOKEN')");
            }
        } else {
            out.println("authentication: OPEN (no --auth): callers name themselves with x-warmroute-owner; anyone who"
                    + " reaches these ports can read a named owner's sessions and drain workers");
        }
        out.println("Ctrl-C stops the cluster.");
        out.flush();
    }

    private static String orNone(String address) {
        return address.isEmpty() ? "-" : address;
    }

    static void writeReadyFile(LocalCluster cluster, Path file) throws IOException {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("role", "cluster");
        v.put("pid", ProcessHandle.current().pid());
        v.put("router_address", cluster.target());
        v.put("router_http", cluster.router().httpAddress());
        v.put("router_pid", cluster.router().pid());
        v.put("workers", cluster.workers().stream().map(w -> w.id() + "=" + w.grpcAddress())
                .collect(Collectors.joining(",")));
        v.put("worker_pids", cluster.workers().stream().map(w -> String.valueOf(w.pid()))
                .collect(Collectors.joining(",")));
        v.put("dir", cluster.options().dir().toString());
        v.put("store_pid", cluster.store() == null ? "" : String.valueOf(cluster.store().pid()));
        v.put("data", cluster.options().data() == null ? "" : cluster.options().data().toString());
        ReadyFile.write(file, v);
    }

    /** Stays in the foreground, reporting children that exit on their own, until all are gone or we are stopped. */
    private static int watch(LocalCluster cluster, PrintWriter out) throws InterruptedException {
        List<LocalCluster.Node> nodes = new java.util.ArrayList<>();
        nodes.add(cluster.router());
        nodes.addAll(cluster.workers());
        Map<String, Boolean> reported = new LinkedHashMap<>();
        while (true) {
            if (cluster.isClosed()) {
                Thread.sleep(Long.MAX_VALUE); // the shutdown hook owns the exit
            }
            int alive = 0;
            for (LocalCluster.Node n : nodes) {
                if (n.isAlive()) {
                    alive++;
                } else if (reported.putIfAbsent(n.id(), true) == null && !cluster.isClosed()) {
                    out.println(n.role() + " " + n.id() + " (pid " + n.pid() + ") exited with code "
                            + n.process().process().exitValue() + "; see " + n.log());
                    out.flush();
                }
            }
            if (alive == 0 && !cluster.isClosed()) {
                out.println("every process of the cluster has exited");
                out.flush();
                return 1;
            }
            Thread.sleep(500);
        }
    }

    private static void stop(LocalCluster cluster, PrintWriter out) {
        if (cluster.isClosed()) {
            return;
        }
        List<Long> pids = cluster.pids();
        out.println();
        out.println("stopping the cluster: SIGTERM to " + pids.size() + " processes " + pids + " ...");
        out.flush();
        long t0 = System.nanoTime();
        List<Long> left = cluster.stopAll();
        double s = (System.nanoTime() - t0) / 1e9;
        if (left.isEmpty()) {
            out.printf(java.util.Locale.ROOT, "stopped in %.1f s; no process left%n", s);
        } else {
            out.println("could not stop " + left);
        }
        out.flush();
    }
}

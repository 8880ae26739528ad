package dev.warmroute.cli.benchcluster;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.cluster.JvmLauncher;
import dev.warmroute.router.RouterMain;
import dev.warmroute.worker.WorkerMain;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A router and N workers as separate JVMs on 127.0.0.1 (every port 0, a cluster name of their own), started with the
 * flags of one approach. Children watch this JVM's pid, so an interrupted benchmark leaves no process behind; their
 * logs stay in the given folder.
 */
final class LocalCluster implements AutoCloseable {

    /** A started child and what its ready file said. */
    record Node(String id, JvmLauncher.ChildProcess process, Map<String, String> ready) {
        String address() {
            return ready.get("address");
        }
    }

    private static final Duration READY_WITHIN = Duration.ofSeconds(240);

    final List<Node> workers = new ArrayList<>();
    Node router;
    final List<String> workerIds = new ArrayList<>();
    /** Every child started, ready or not: all are stopped on close. */
    private final List<JvmLauncher.ChildProcess> launched = new ArrayList<>();

    /**
     * @param workerArgs extra worker flags (model, threads, stateless, ...)
     * @param routerArgs extra router flags (placement)
     */
    static LocalCluster start(String label, int n, List<String> workerArgs, List<String> routerArgs, Path logs)
            throws IOException, InterruptedException {
        LocalCluster c = new LocalCluster();
        try {
            c.launch(label, n, workerArgs, routerArgs, logs);
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void launch(String label, int n, List<String> workerArgs, List<String> routerArgs, Path logs)
            throws IOException, InterruptedException {
        String name = "bench-" + label + "-" + UUID.randomUUID().toString().substring(0, 8);
        String parent = String.valueOf(ProcessHandle.current().pid());
        // The first worker alone (it is the Hazelcast seed), then the others together.
        List<CompletableFuture<Node>> pending = new ArrayList<>();
        String seed = null;
        for (int i = 1; i <= n; i++) {
            String id = "w" + i;
            workerIds.add(id);
            Path ready = logs.resolve(label + "-" + id + ".ready");
            List<String> args = new ArrayList<>(List.of("--worker-id", id, "--port", "0", "--hazelcast-port", "0",
                    "--cluster-name", name, "--ready-file", ready.toString(), "--parent-pid", parent,
                    "--shutdown-grace-seconds", "5"));
            args.addAll(workerArgs);
            if (seed != null) {
                args.addAll(List.of("--members", seed));
            }
            JvmLauncher.ChildProcess p = JvmLauncher.start(label + "-" + id, WorkerMain.class.getName(), args,
                    List.of("-Xmx1g", "-XX:+UseParallelGC"), Map.of(), logs.resolve(label + "-" + id + ".log"));
            launched.add(p);
            CompletableFuture<Node> f = CompletableFuture.supplyAsync(() -> awaitReady(id, p, ready));
            if (seed == null) {
                Node first = join(f);
                workers.add(first);
                seed = "127.0.0.1:" + first.ready().get("hazelcast_port");
            } else {
                pending.add(f);
            }
        }
        for (CompletableFuture<Node> f : pending) {
            workers.add(join(f));
        }
        List<String> members = workers.stream().map(w -> "127.0.0.1:" + w.ready().get("hazelcast_port")).toList();
        Path ready = logs.resolve(label + "-router.ready");
        List<String> args = new ArrayList<>(List.of("--router-id", "router", "--port", "0", "--cluster-name", name,
                "--members", String.join(",", members), "--ready-file", ready.toString(), "--parent-pid", parent,
                "--shutdown-grace-seconds", "5"));
        args.addAll(routerArgs);
        JvmLauncher.ChildProcess p = JvmLauncher.start(label + "-router", RouterMain.class.getName(), args,
                List.of("-Xmx384m", "-XX:+UseParallelGC"), Map.of(), logs.resolve(label + "-router.log"));
        launched.add(0, p);
        router = awaitReady("router", p, ready);
        awaitServing(n);
    }

    private static Node awaitReady(String id, JvmLauncher.ChildProcess p, Path ready) {
        try {
            return new Node(id, p, p.awaitReady(ready, READY_WITHIN));
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static Node join(CompletableFuture<Node> f) throws IOException {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    /** Waits until the router sees every worker serving. */
    private void awaitServing(int n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                ClusterStatus s = status();
                long serving = s.getWorkersList().stream()
                        .filter(w -> w.getHealth() == WorkerHealth.WORKER_HEALTH_SERVING).count();
                if (serving == n) {
                    return;
                }
                last = serving + " of " + n + " serving";
            } catch (RuntimeException e) {
                last = e.getMessage();
            }
            Thread.sleep(100);
        }
        throw new IOException("the router did not see " + n + " workers serving within 60 s (" + last + ")");
    }

    /** The router's AdminService status. */
    ClusterStatus status() {
        ManagedChannel ch = NettyChannelBuilder.forTarget(router.address()).usePlaintext().build();
        try {
            return AdminServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getClusterStatus(GetClusterStatusRequest.newBuilder().setIncludeWorkerStats(true).build());
        } finally {
            ch.shutdownNow();
        }
    }

    String routerAddress() {
        return router.address();
    }

    /** Graceful stop of every child (router first), kill -9 for any that does not stop in time. */
    @Override
    public void close() throws InterruptedException {
        List<JvmLauncher.ChildProcess> all = List.copyOf(launched);
        for (JvmLauncher.ChildProcess p : all) {
            if (p.isAlive()) {
                p.process().destroy();
            }
        }
        for (JvmLauncher.ChildProcess p : all) {
            if (!p.process().waitFor(15, TimeUnit.SECONDS)) {
                p.kill();
            }
        }
    }
}

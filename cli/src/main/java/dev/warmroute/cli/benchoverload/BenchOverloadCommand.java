package dev.warmroute.cli.benchoverload;

import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cli.Json;
import dev.warmroute.cli.UserError;
import dev.warmroute.cli.benchcluster.BenchClusterCommand;
import dev.warmroute.cli.cluster.LocalClusterFlags;
import dev.warmroute.cli.drill.HistoryAudit;
import dev.warmroute.cli.drill.TurnRecord;
import dev.warmroute.cluster.launch.AdminClient;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import dev.warmroute.engine.gguf.GgufFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Overload on a real cluster (a router and the workers as separate JVMs on 127.0.0.1, the router as in production:
 * a worker is offered at most its advertised capacity, {@code --admit-queued 0}). First an unloaded phase, one turn at
 * a time, for the TTFT of admitted turns and the turn time; then an open-loop load of {@code --factor} times the
 * cluster's capacity (capacity = the sum of the workers' advertised capacities, divided by the unloaded turn time:
 * turns per second) for {@code --seconds}. Arrivals are evenly spaced and do not wait for answers, as independent users
 * do; each takes a session that has no turn running. It reports what was offered, admitted and refused (by status),
 * the admitted turns' TTFT unloaded vs loaded, how fast refusals come, breaker openings, errors other than
 * RESOURCE_EXHAUSTED, and an audit of every acknowledged turn against the stored histories.
 */
@Command(name = "overload", mixinStandardHelpOptions = true, description = {
        "Overload on a real cluster: an unloaded phase (one turn at a time), then --factor x the cluster's capacity",
        "(the workers' advertised capacities / the unloaded turn time) offered open-loop for --seconds. Reports",
        "offered, admitted, refused by status, admitted TTFT p50/p99 unloaded vs loaded, refusal latency p50/p99/max,",
        "breaker openings, other errors and lost turns (audited against the stored histories). Targets (issue 13):",
        "admitted p99 TTFT within 2x of unloaded, refusals under 50 ms with RESOURCE_EXHAUSTED, no breaker opens,",
        "no OutOfMemoryError, nothing lost. Prints a table, or JSON with --json."})
public final class BenchOverloadCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE",
            description = "GGUF model for the workers (default: the synthetic 15M model of context 2048 the other "
                    + "cluster benchmarks use, --synth-type).")
    Path model;

    @Option(names = "--synth-type", defaultValue = "f32", paramLabel = "f32|q8_0",
            description = "Weight type of the synthetic model used without --model (default: ${DEFAULT-VALUE}).")
    String synthType;

    @Option(names = "--workers", defaultValue = "3", description = "Workers (default: ${DEFAULT-VALUE}).")
    int workers;

    /** 1 thread per worker (3 workers share 2 cores here), 1 turn at a time each, a small cache budget. */
    @Mixin
    LocalClusterFlags cluster = new LocalClusterFlags(1, 256, 1);

    @Option(names = "--seconds", defaultValue = "60", description = "Length of the loaded phase (default: "
            + "${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--factor", defaultValue = "10", description = "Offered load as a multiple of the cluster's "
            + "capacity (default: ${DEFAULT-VALUE}).")
    double factor;

    @Option(names = "--unloaded-turns", defaultValue = "120", description = "Turns of the unloaded phase, one at a "
            + "time round the sessions, after a warm-up of one turn per session (default: ${DEFAULT-VALUE}).")
    int unloadedTurns;

    @Option(names = "--sessions", defaultValue = "60", description = "Sessions the turns are spread over, created "
            + "before the load; each has at most one turn running, so they are the users who keep coming back "
            + "(default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--max-tokens", defaultValue = "16", description = "Answer length (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--seed", defaultValue = "1", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write results.json and results.txt here, and keep the cluster logs in DIR/logs.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (workers < 1 || workers > 16) {
            throw new UserError("--workers: must be in [1, 16], got " + workers);
        }
        if (seconds < 1 || seconds > 3600) {
            throw new UserError("--seconds: must be in [1, 3600], got " + seconds);
        }
        if (!(factor > 0 && factor <= 100)) {
            throw new UserError("--factor: must be in (0, 100], got " + factor);
        }
        if (unloadedTurns < 1 || unloadedTurns > 10_000) {
            throw new UserError("--unloaded-turns: must be in [1, 10000], got " + unloadedTurns);
        }
        if (sessions < 1 || sessions > 100_000) {
            throw new UserError("--sessions: must be in [1, 100000], got " + sessions);
        }
        if (maxTokens < 1 || maxTokens > 1024) {
            throw new UserError("--max-tokens: must be in [1, 1024], got " + maxTokens);
        }
        PrintWriter progress = spec.commandLine().getErr();
        Path modelFile = BenchClusterCommand.benchModel(model, synthType, progress, "bench overload");
        String modelName;
        boolean synthetic;
        try (GgufFile g = GgufFile.open(modelFile)) {
            modelName = g.getString("general.name", modelFile.getFileName().toString());
            synthetic = g.contains("warmroute.synthetic");
        }
        Path logs = out != null ? out.resolve("logs") : Files.createTempDirectory("warmroute-bench-overload");
        Files.createDirectories(logs);
        progress.printf("bench overload: model %s, logs of the cluster in %s%n", modelFile, logs);
        progress.flush();
        Instant started = Instant.now();
        OverloadReport report;
        try (LocalCluster c = LocalCluster.start(clusterOptions(modelFile, logs), line -> { })) {
            report = run(c, modelName, synthetic, started, progress);
        }
        StringWriter table = new StringWriter();
        report.print(new PrintWriter(table));
        Json doc = report.toJson();
        if (out != null) {
            Files.writeString(out.resolve("results.json"), doc + "\n");
            Files.writeString(out.resolve("results.txt"), table.toString());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.print(json ? doc + "\n" : table.toString());
        stdout.flush();
        return 0;
    }

    /** The router as in production (it offers a worker at most its capacity); OS-picked ports, a cluster of its own. */
    private LocalClusterOptions clusterOptions(Path modelFile, Path logs) {
        return cluster.applyTo(LocalClusterOptions.builder(modelFile, logs)).workers(workers).routerPort(0)
                .clusterName("bench-overload-" + UUID.randomUUID().toString().substring(0, 8))
                .extraRouterArgs(List.of("--admit-queued", "0"))
                .shutdownGrace(Duration.ofSeconds(5)).readyTimeout(Duration.ofSeconds(240))
                .workerJvmFlags(List.of("-Xmx1g", "-XX:+UseParallelGC"))
                .routerJvmFlags(List.of("-Xmx384m", "-XX:+UseParallelGC")).build();
    }

    private OverloadReport run(LocalCluster c, String modelName, boolean synthetic, Instant started,
            PrintWriter progress) throws Exception {
        List<String> ids = new ArrayList<>();
        String runId = UUID.randomUUID().toString().substring(0, 6);
        for (int i = 0; i < sessions; i++) {
            ids.add("ovl-" + runId + "-" + i);
        }
        ClusterStatus before;
        try (AdminClient admin = new AdminClient(c.target())) {
            before = admin.status(false, Duration.ofSeconds(30));
        }
        int capacity = before.getWorkersList().stream().mapToInt(WorkerStatus::getCapacity).sum();
        int perWorker = before.getWorkersCount() == 0 ? 0 : before.getWorkers(0).getCapacity();
        try (OverloadClient client = new OverloadClient(c.target(), ids, maxTokens)) {
            progress.printf("bench overload: creating %d sessions%n", sessions);
            progress.flush();
            client.createSessions(seed);
            // Every session's first turn (cold: nothing cached yet) is the warm-up (JIT of router, workers and
            // client), not measured; the unloaded phase then goes round the sessions one turn at a time, as the
            // loaded phase does, so both measure turns of sessions that live on their workers.
            for (int i = 0; i < sessions; i++) {
                sequential(client, "warmup", i);
            }
            progress.printf("bench overload: unloaded phase, %d turns one at a time over %d sessions%n",
                    unloadedTurns, sessions);
            progress.flush();
            List<OfferedTurn> unloaded = new ArrayList<>();
            for (int i = 0; i < unloadedTurns; i++) {
                unloaded.add(sequential(client, "unloaded", i % sessions));
            }
            double turnMs = unloaded.stream().filter(OfferedTurn::admitted).mapToDouble(t -> t.record().totalMs())
                    .average().orElse(1000);
            double rate = factor * capacity / (turnMs / 1000.0);
            progress.printf(Locale.ROOT, "bench overload: unloaded turn %.0f ms; offering %.1f turns/s (%.1fx "
                    + "capacity %d) for %d s%n", turnMs, rate, factor, capacity, seconds);
            progress.flush();
            long[] notOffered = new long[1];
            double loadBefore = loadAverage();
            List<LocalCluster.Node> nodes = new ArrayList<>(c.workers());
            nodes.add(c.router());
            double[] cpuBefore = cpuSeconds(nodes);
            List<OfferedTurn> loaded = offer(client, rate, notOffered, progress);
            double[] cpuAfter = cpuSeconds(nodes);
            double loadAfter = loadAverage();
            Map<String, Double> cpu = new LinkedHashMap<>();
            for (int i = 0; i < nodes.size(); i++) {
                cpu.put(nodes.get(i).id(), cpuAfter[i] - cpuBefore[i]);
            }
            cpu.put("bench client", cpuAfter[nodes.size()] - cpuBefore[nodes.size()]);
            ClusterStatus after;
            try (AdminClient admin = new AdminClient(c.target())) {
                after = admin.status(false, Duration.ofSeconds(30));
            }
            progress.println("bench overload: auditing the stored histories");
            progress.flush();
            List<TurnRecord> records = Stream.concat(unloaded.stream(), loaded.stream()).map(OfferedTurn::record)
                    .toList();
            HistoryAudit.Result audit = HistoryAudit.audit(records, HistoryAudit.read(client.chat(),
                    records.stream().map(TurnRecord::sessionId).distinct().toList()));
            long alive = nodes.stream().filter(LocalCluster.Node::isAlive).count();
            long oom = 0;
            for (LocalCluster.Node n : nodes) {
                try (Stream<String> lines = Files.lines(n.log())) {
                    oom += lines.filter(l -> l.contains("OutOfMemoryError")).count();
                } catch (IOException | java.io.UncheckedIOException e) {
                    progress.printf("bench overload: could not read %s: %s%n", n.log(), e);
                }
            }
            String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch")
                    + ", java " + Runtime.version();
            OverloadReport.Setup setup = new OverloadReport.Setup(modelName, synthetic, workers, perWorker, capacity,
                    factor, turnMs, sessions, maxTokens, machine, started.toString(), loadBefore, loadAfter);
            return new OverloadReport(setup, unloaded, loaded, rate, seconds, notOffered[0],
                    after.getBreakerOpens() - before.getBreakerOpens(), after.getTurnsShed() - before.getTurnsShed(),
                    audit, alive + "/" + nodes.size(), oom, cpu);
        }
    }

    /**
     * CPU seconds used so far by each node's process and, last, by this JVM (the load generator): where the loaded
     * phase's time goes on a machine whose cores everything shares.
     */
    private static double[] cpuSeconds(List<LocalCluster.Node> nodes) {
        double[] out = new double[nodes.size() + 1];
        for (int i = 0; i < nodes.size(); i++) {
            out[i] = ProcessHandle.of(nodes.get(i).pid()).flatMap(h -> h.info().totalCpuDuration())
                    .map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
        }
        out[nodes.size()] = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9)
                .orElse(Double.NaN);
        return out;
    }

    /** The machine's 1-minute load average: the benchmark shares its cores with whatever else runs. */
    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** One turn of session {@code index}, waited for. */
    private static OfferedTurn sequential(OverloadClient client, String phase, int index) {
        if (!client.take(index)) {
            throw new IllegalStateException("session " + index + " is busy in a sequential phase");
        }
        return client.turn(phase, index);
    }

    /**
     * The loaded phase: an arrival every 1/rate seconds for {@code seconds}, each a turn on an idle session, none
     * waiting for another; then every turn still running is waited for.
     */
    private List<OfferedTurn> offer(OverloadClient client, double rate, long[] notOffered, PrintWriter progress) {
        ConcurrentLinkedQueue<OfferedTurn> results = new ConcurrentLinkedQueue<>();
        long intervalNanos = (long) (1e9 / rate);
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long nextReport = start + 10_000_000_000L;
        try (ExecutorService turns = Executors.newVirtualThreadPerTaskExecutor()) {
            for (long i = 0; ; i++) {
                long at = start + i * intervalNanos;
                if (at >= end) {
                    break;
                }
                long wait = at - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                int s = client.takeIdle();
                if (s < 0) {
                    notOffered[0]++;
                    continue;
                }
                turns.submit(() -> results.add(client.turn("loaded", s)));
                if (System.nanoTime() >= nextReport) {
                    long admitted = results.stream().filter(OfferedTurn::admitted).count();
                    progress.printf(Locale.ROOT, "bench overload: %.0f s, %d offered, %d admitted%n",
                            (System.nanoTime() - start) / 1e9, results.size(), admitted);
                    progress.flush();
                    nextReport += 10_000_000_000L;
                }
            }
        }
        List<OfferedTurn> all = new ArrayList<>(results);
        all.sort(java.util.Comparator.comparingDouble(t -> t.record().startMs()));
        return all;
    }

}

package dev.warmroute.cli.drill;

import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cli.UserError;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cli.cluster.LocalClusterFlags;
import dev.warmroute.cli.cluster.ModelChoice;
import dev.warmroute.cli.cluster.RunDirs;
import dev.warmroute.cluster.launch.AdminClient;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import dev.warmroute.cluster.launch.NetworkPlan;
import dev.warmroute.cluster.launch.NetworkSplit;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import dev.warmroute.cli.cluster.StoreFlags;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code warmroute drill}: a failover drill with numbers. Starts its own cluster (the code of {@code cluster up}),
 * warms it up, runs a multi-session chat load through the router, injects one fault in the middle against the worker
 * holding the most sessions, waits until the cluster is safe again, then reads every session's stored history and
 * checks it against what the clients were told ({@link HistoryAudit}). Reports client-visible errors, lost, duplicated
 * and mismatched turns, TTFT before/during/after against a cold TTFT of the same workload, warm-hit rate over time,
 * recovery time and turns, sessions moved, fallbacks, resumed streams, per-worker turns ({@link DrillReport}).
 */
@Command(name = "drill", description = {
        "Failover drill: start a cluster (or use --target), run a multi-session chat load, inject a fault in the",
        "middle against the worker holding the most sessions, and check every stored history against what the",
        "clients saw. Scenarios: kill (kill -9), stop (SIGTERM, graceful), restart (kill -9, then the same worker",
        "again), join (a new worker), freeze (SIGSTOP, then SIGCONT: noticed only through heartbeats),",
        "restart-all (kill -9 of every process, the store's too, then all again on the same data),",
        "store-outage (the history store down for --outage-seconds under load), partition (the last worker and a",
        "second router cut off from the rest by a network split for --outage-seconds; needs root), none.",
        "History is kept in an H2 store process under --out (or --data) unless --store (PostgreSQL) or --no-store.",
        "Faults need the workers' pids: only on the drill's own cluster; --target allows --scenario none.",
        "Prints a table (or --json); writes drill.json, turns.jsonl, chart.svg and the cluster's logs to --out.",
        "Exit code 1 when a client saw an error or a turn was lost, duplicated or stored with another answer."})
public final class DrillCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--scenario", required = true, paramLabel = "kill|stop|restart|join|freeze|restart-all|store-outage|partition|none",
            converter = Fault.Converter.class, description = "The fault to inject.")
    Fault scenario;

    @Mixin
    StoreFlags storeFlags;

    @Option(names = "--store-stop-command", defaultValue = "", paramLabel = "CMD",
            description = "store-outage with --store: shell command that stops the database (default: the drill's own"
                    + " H2 store process is stopped).")
    String storeStopCommand;

    @Option(names = "--store-start-command", defaultValue = "", paramLabel = "CMD",
            description = "store-outage with --store: shell command that starts the database again.")
    String storeStartCommand;

    @Option(names = "--workers", defaultValue = "3", description = "Workers of the drill's cluster (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--sessions", defaultValue = "12", description = "Concurrent chat sessions (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--turns", defaultValue = "8", description = "Turns per session (default ${DEFAULT-VALUE}).")
    int turns;

    @Option(names = "--max-tokens", defaultValue = "16", description = "Tokens per answer (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--think-ms", defaultValue = "1000",
            description = "Pause between a session's turns, ±25% (default ${DEFAULT-VALUE}).")
    long thinkMs;

    @Option(names = "--freeze-seconds", defaultValue = "8", description = "How long freeze keeps the worker stopped (default ${DEFAULT-VALUE}).")
    long freezeSeconds;

    @Option(names = "--outage-seconds", defaultValue = "10",
            description = "store-outage: how long the store stays down; partition: how long the network stays cut"
                    + " (default ${DEFAULT-VALUE}).")
    long outageSeconds;

    @Option(names = "--restart-after-seconds", defaultValue = "3",
            description = "restart: seconds from the kill to the new start (default ${DEFAULT-VALUE}).")
    long restartAfterSeconds;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model (default: as cluster up chooses).")
    Path model;

    @Option(names = "--target", paramLabel = "HOST:PORT",
            description = "Drive an existing router instead of starting a cluster (only --scenario none).")
    String target;

    @Option(names = "--out", paramLabel = "DIR", description = "Where results and logs go (default: runs/drill-<scenario>-<time>).")
    Path out;

    @Option(names = "--json", description = "Print the result as one JSON object instead of a table.")
    boolean json;





    @Mixin
    LocalClusterFlags cluster = new LocalClusterFlags(-1, 64, 2);

    @Option(names = "--worker-arg", paramLabel = "FLAG", description = "Extra flag for every worker (repeatable).")
    List<String> workerArgs = new ArrayList<>();

    @Option(names = "--router-arg", paramLabel = "FLAG", description = "Extra flag for the router (repeatable).")
    List<String> routerArgs = new ArrayList<>();

    private static final String OWNER = "drill";
    /** partition: the router started inside the split, beside the cut-off worker. */
    static final String INSIDE_ROUTER = "router-inside";
    private static final Duration TURN_DEADLINE = Duration.ofSeconds(120);

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path outDir = out != null ? out.toAbsolutePath().normalize() : RunDirs.fresh("drill-" + scenario.label());
        Files.createDirectories(outDir);
        String runId = UUID.randomUUID().toString().substring(0, 6);

        LocalCluster cluster = null;
        NetworkSplit split = null;
        Thread hook = null;
        ModelChoice choice = null;
        String routerAddress = target;
        if (target == null) {
            Path clusterDir = outDir.resolve("cluster");
            try {
                choice = ModelChoice.resolve(model, clusterDir, System.getenv());
                LocalClusterOptions.Builder builder = this.cluster.applyTo(LocalClusterOptions.builder(choice.path(),
                        clusterDir)).workers(workers).routerPort(0).clusterName("drill-" + runId)
                        .extraWorkerArgs(workerArgs).extraRouterArgs(routerArgs);
                storeFlags.apply(builder, clusterDir.resolve("data"));
                if (scenario == Fault.PARTITION) {
                    split = createSplit(err);
                    builder.router(LocalClusterOptions.DEFAULT_ROUTER).router(INSIDE_ROUTER)
                            .network(NetworkPlan.across(split, java.util.Set.of(partitionVictim(), INSIDE_ROUTER)));
                }
                LocalClusterOptions options = builder.build();
                cluster = new LocalCluster(options, line -> progressLine(err, line));
            } catch (IllegalArgumentException e) {
                if (split != null) {
                    split.close();
                }
                throw new UserError(e.getMessage());
            }
            progressLine(err, choice.description());
            LocalCluster c = cluster;
            NetworkSplit sp = split;
            hook = new Thread(() -> {
                c.close();
                if (sp != null) {
                    sp.close();
                }
            }, "drill-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                cluster.start();
            } catch (IOException e) {
                if (split != null) {
                    split.close();
                }
                throw new UserError("cluster did not come up: " + e.getMessage(), 1);
            }
            routerAddress = cluster.target();
        }
        try {
            Result r = run(cluster, split, routerAddress, runId, err);
            DrillOutput output = new DrillOutput(scenario, settingsLine(choice), r, outDir);
            output.writeFiles();
            if (json) {
                stdout.println(output.json());
            } else {
                output.printTable(stdout);
            }
            stdout.flush();
            boolean clean = scenario == Fault.STORE_OUTAGE || scenario == Fault.PARTITION
                    ? output.targets().values().stream().allMatch(b -> b)
                    && r.report.audit().answerMismatches() == 0
                    : r.report.clientErrors() == 0 && r.report.audit().lost() == 0
                    && r.report.audit().duplicated() == 0 && r.report.audit().answerMismatches() == 0;
            return clean ? 0 : 1;
        } finally {
            if (cluster != null) {
                progressLine(err, "stopping the drill's cluster");
                cluster.close();
                if (split != null) {
                    split.close();
                }
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // already exiting: the hook stops the cluster
                }
            }
        }
    }

    /** The worker the partition cuts off: the last one (it is started inside the split). */
    private String partitionVictim() {
        return "w" + workers;
    }

    private static NetworkSplit createSplit(PrintWriter err) {
        try {
            NetworkSplit s = NetworkSplit.create();
            progressLine(err, s.toString());
            return s;
        } catch (IOException e) {
            throw new UserError("--scenario partition: " + e.getMessage(), 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("--scenario partition: interrupted", 1);
        }
    }

    private void validate() {
        if (target != null && scenario.needsOwnCluster()) {
            throw new UserError("--target: --scenario " + scenario.label() + " kills, stops or starts worker processes,"
                    + " which needs their pids: it runs only on the drill's own cluster (omit --target). Against"
                    + " --target use --scenario none (load and history audit, no fault).");
        }
        if (workers < 2 && scenario != Fault.NONE && scenario != Fault.JOIN) {
            throw new UserError("--workers: at least 2 for --scenario " + scenario.label()
                    + " (someone must take over)");
        }
        if (sessions < 1 || sessions > 500) {
            throw new UserError("--sessions: 1 to 500, got " + sessions);
        }
        if (turns < 2 || turns > 200) {
            throw new UserError("--turns: 2 to 200 (the fault comes in the middle), got " + turns);
        }
        if (maxTokens < 1 || maxTokens > 4096) {
            throw new UserError("--max-tokens: 1 to 4096, got " + maxTokens);
        }
        if (scenario == Fault.STORE_OUTAGE && storeFlags.external()
                && (storeStopCommand.isBlank() || storeStartCommand.isBlank())) {
            throw new UserError("--scenario store-outage with --store: give --store-stop-command and"
                    + " --store-start-command (how to stop and start that database)");
        }
        if (scenario == Fault.PARTITION && workers < 3) {
            throw new UserError("--workers: at least 3 for --scenario partition (a majority must remain: quorum"
                    + " protection starts at three workers), got " + workers);
        }
        if (scenario == Fault.PARTITION && NetworkSplit.unavailableReason() != null) {
            throw new UserError("--scenario partition: " + NetworkSplit.unavailableReason());
        }
        if (scenario == Fault.STORE_OUTAGE && storeFlags.none()) {
            throw new UserError("--scenario store-outage: not with --no-store");
        }
        if (outageSeconds < 1) {
            throw new UserError("--outage-seconds: at least 1, got " + outageSeconds);
        }
        if (thinkMs < 0 || freezeSeconds < 1 || restartAfterSeconds < 0) {
            throw new UserError("--think-ms >= 0, --freeze-seconds >= 1, --restart-after-seconds >= 0");
        }
    }

    private String settingsLine(ModelChoice choice) {
        String m = choice == null ? "the target's model" : choice.synthetic() ? "a SYNTHETIC tiny model"
                : choice.path().getFileName().toString();
        return String.format(Locale.ROOT, "%s; %d sessions x %d turns, %d-token answers, think %.1f s; %s; %d cores,"
                        + " java %s", target == null ? workers + " workers" : "target " + target, sessions, turns,
                maxTokens, thinkMs / 1000.0, m, Runtime.getRuntime().availableProcessors(), Runtime.version());
    }

    /** Everything measured: the report, the fault's timeline, the victim, the cold yardstick. */
    record Result(DrillReport report, List<TurnRecord> turns, Fault.Timeline timeline, String victim,
            int victimSessions, ColdBaseline.Result cold, String modelId, boolean synthetic,
            Map<String, TurnComplete> completes, int clientRetries, int minorityInconsistent) {}

    private Result run(LocalCluster cluster, NetworkSplit split, String routerAddress, String runId, PrintWriter err)
            throws Exception {
        ChatLoad.Settings settings = new ChatLoad.Settings(runId, sessions, turns, maxTokens,
                Duration.ofMillis(thinkMs), TURN_DEADLINE, "", 1);
        try (ChatClient client = new ChatClient(routerAddress, OWNER);
             AdminClient admin = new AdminClient(routerAddress)) {
            warmUp(client, runId, err);
            awaitSafe(admin, Duration.ofSeconds(120));
            MinorityProbe minority = new MinorityProbe(runId, OWNER, maxTokens);
            if (scenario == Fault.PARTITION) {
                progressLine(err, "preparing " + MinorityProbe.SESSIONS + " minority probe sessions");
                minority.prepare(client);
            }
            progressLine(err, "creating " + sessions + " sessions");
            ChatLoad loadForCreate = new ChatLoad(client, settings, System.nanoTime());
            try {
                loadForCreate.createSessions();
            } catch (StatusRuntimeException e) {
                throw new UserError("creating the sessions failed: " + e.getStatus().getCode() + ": "
                        + e.getStatus().getDescription(), 1);
            }
            long t0 = System.nanoTime();
            ChatLoad load = new ChatLoad(client, settings, t0);
            if (scenario.clientsRetry()) {
                load.retryUnavailable(Duration.ofSeconds(180));
            }
            String[] phase = {"load running"};
            ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "drill-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(() -> progress(err, load, t0, phase[0]), 1, 1, TimeUnit.SECONDS);
            Thread loadThread = Thread.ofVirtual().name("drill-load").start(() -> {
                try {
                    load.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Fault.Timeline timeline = new Fault.Timeline();
            String victim = "";
            int victimSessions = 0;
            try {
                if (scenario != Fault.NONE) {
                    while (load.completed() < load.total() / 2 && loadThread.isAlive()) {
                        Thread.sleep(20);
                    }
                    Map<String, Integer> held = sessionsPerWorker(load.records());
                    victim = held.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                            .orElse(cluster.workers().getFirst().id());
                    victimSessions = held.getOrDefault(victim, 0);
                    if (scenario == Fault.JOIN) {
                        victim = "";
                        victimSessions = 0;
                    } else if (scenario == Fault.PARTITION) {
                        victim = partitionVictim();
                        victimSessions = held.getOrDefault(victim, 0);
                    }
                    Fault.Partition partition = split == null ? null : new Fault.Partition(split, INSIDE_ROUTER,
                            Duration.ofSeconds(outageSeconds), Duration.ofSeconds(60),
                            () -> minority.probe(cluster.router(INSIDE_ROUTER).grpcAddress()));
                    load.holdOpen();
                    try {
                        timeline = scenario.inject(cluster, victim, Duration.ofSeconds(
                                        scenario == Fault.STORE_OUTAGE ? outageSeconds : freezeSeconds),
                                Duration.ofSeconds(restartAfterSeconds),
                                new Fault.StoreCommands(storeStopCommand, storeStartCommand), partition,
                                System::nanoTime, t0,
                                p -> phase[0] = p);
                    } finally {
                        // Every session gets half its turns after the fault's moment, however long the fault took.
                        load.faultAt(timeline.faultAtMs() >= 0 ? timeline.faultAtMs() : Double.NaN,
                                Math.max(1, turns / 2));
                    }
                    phase[0] = "fault over; load running";
                }
                loadThread.join();
            } finally {
                ticker.shutdownNow();
            }
            progress(err, load, t0, "load done");
            awaitSafe(admin, Duration.ofSeconds(120));

            progressLine(err, "reading " + sessions + " stored histories");
            List<TurnRecord> records = load.records();
            HistoryAudit.Result audit = HistoryAudit.audit(records, HistoryAudit.read(client,
                    java.util.stream.IntStream.range(0, settings.sessions()).mapToObj(settings::sessionId).toList()));
            double faultAt = scenario == Fault.NONE ? Double.POSITIVE_INFINITY : timeline.faultAtMs();
            DrillReport report = DrillReport.compute(records, faultAt, audit);

            progressLine(err, "measuring the cold TTFT of the same turns without a fault (probe sessions replay"
                    + " the histories, then one turn each to a worker without their cache)");
            ClusterStatus status = admin.status(true, Duration.ofSeconds(10));
            Map<String, String> live = new LinkedHashMap<>();
            String modelId = "";
            boolean synthetic = false;
            for (WorkerStatus w : status.getWorkersList()) {
                if (w.getHealth() == WorkerHealth.WORKER_HEALTH_SERVING) {
                    live.put(w.getWorkerId(), w.getAddress());
                }
                if (w.hasStats()) {
                    modelId = w.getStats().getModelId();
                    synthetic = w.getStats().getModelSynthetic();
                }
            }
            Map<String, Map<Integer, String>> answers = new HashMap<>();
            for (TurnRecord t : records) {
                if (t.ok()) {
                    answers.computeIfAbsent(t.sessionId(), k -> new HashMap<>()).put(t.turn(), t.answer());
                }
            }
            List<ColdBaseline.Probe> probes = ColdBaseline.probes(records, faultAt, turns);
            ColdBaseline.Result cold = ColdBaseline.measure(OWNER, client, settings, probes, answers, live);
            Map<String, TurnComplete> completes = new HashMap<>();
            for (TurnRecord t : records) {
                TurnComplete c = load.complete(t.requestId());
                if (c != null) {
                    completes.put(t.requestId(), c);
                }
            }
            int minorityInconsistent = scenario == Fault.PARTITION
                    ? minority.inconsistentHistories(client, timeline.minority()) : 0;
            return new Result(report, records, timeline, victim, victimSessions, cold, modelId, synthetic,
                    completes, load.retries(), minorityInconsistent);
        }
    }

    /** A few throwaway sessions through the router, so the first measured turns do not pay for warm-up. */
    private void warmUp(ChatClient client, String runId, PrintWriter err) {
        int n = Math.max(2, 2 * workers);
        progressLine(err, "warming up (" + n + " sessions x 3 turns)");
        ChatLoad.Settings s = new ChatLoad.Settings(runId + "-warmup", n, 3, maxTokens, Duration.ZERO, TURN_DEADLINE,
                "", 1);
        ChatLoad warm = new ChatLoad(client, s, System.nanoTime());
        try {
            warm.createSessions();
            warm.run();
        } catch (StatusRuntimeException e) {
            throw new UserError("warm-up failed: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription(),
                    1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (warm.errors() > 0) {
            TurnRecord first = warm.records().stream().filter(t -> !t.ok()).findFirst().orElseThrow();
            throw new UserError("warm-up: " + warm.errors() + " turns failed, e.g. " + first.error(), 1);
        }
    }

    private static void awaitSafe(AdminClient admin, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (admin.status(false, Duration.ofSeconds(3)).getClusterSafe()) {
                    return;
                }
            } catch (StatusRuntimeException e) {
                // not answering yet: keep polling
            }
            Thread.sleep(100);
        }
        throw new UserError("the cluster did not become safe within " + within.toSeconds() + " s", 1);
    }

    static Map<String, Integer> sessionsPerWorker(List<TurnRecord> records) {
        Map<String, String> last = new HashMap<>();
        for (TurnRecord t : records) {
            if (t.ok()) {
                last.put(t.sessionId(), t.worker());
            }
        }
        Map<String, Integer> held = new java.util.TreeMap<>();
        last.values().forEach(w -> held.merge(w, 1, Integer::sum));
        return held;
    }

    private void progress(PrintWriter err, ChatLoad load, long t0, String phase) {
        double now = (System.nanoTime() - t0) / 1e6;
        List<TurnRecord> recent = load.records().stream().filter(t -> t.ok() && t.startMs() >= now - 2000).toList();
        List<Double> ttft = recent.stream().map(TurnRecord::ttftMs).sorted().toList();
        long warm = recent.stream().filter(TurnRecord::warm).count();
        // Sessions run past their planned turns until each has enough turns after the fault, so the count can pass
        // the plan: say "at least".
        err.printf(Locale.ROOT, "drill %s %6.1f s  turns %d of >= %d  errors %d  last 2 s: warm %s, TTFT p50 %s  | %s%n",
                scenario.label(), now / 1000, load.completed(), load.total(), load.errors(),
                recent.isEmpty() ? "-" : Math.round(100.0 * warm / recent.size()) + "%",
                ttft.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f ms", DrillReport.percentile(ttft, 0.5)),
                phase);
        err.flush();
    }

    private static void progressLine(PrintWriter err, String line) {
        err.println("drill: " + line);
        err.flush();
    }
}

package dev.warmroute.cli.benchcluster;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.Json;
import dev.warmroute.cli.UserError;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cli.cluster.LocalClusterFlags;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.synth.SyntheticModel;
import dev.warmroute.engine.synth.SyntheticShape;
import dev.warmroute.engine.template.ChatTemplate;
import dev.warmroute.engine.template.ChatTemplates;
import dev.warmroute.engine.tokenizer.GgufTokenizers;
import dev.warmroute.engine.tokenizer.Tokenizer;
import dev.warmroute.router.RendezvousHash;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The seed's three approaches on the same multi-session, multi-turn workload, each on a real cluster of its own
 * (router and workers as separate JVMs on 127.0.0.1): stateless (round robin over {@code --stateless} workers), stateful
 * (plain session hashing) and hybrid (warmroute). Same engine, same workers, same sessions and messages, same sampling
 * seeds: the approaches differ only in placement and cache reuse, and must give the same answers.
 */
@Command(name = "cluster", description = {
        "The seed's three approaches on one workload, each on its own real cluster (router + workers as separate",
        "JVMs on 127.0.0.1): stateless (round robin, full recompute every turn), stateful (plain session hashing, no",
        "load bound, no fallback) and hybrid (warmroute). Reports prefill tokens computed, TTFT p50/p99, turns per",
        "second and per-worker load. Workloads (DESIGN.md, Benchmarks): qa = a shared context of half the model's",
        "context window, then 10 questions of ~20 tokens with 30-token answers; chat = 8 turns of ~40-token messages",
        "and 60-token answers. Prints tables, or JSON with --json."})
public final class BenchClusterCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE",
            description = "GGUF model for the workers (default: a synthetic 15M model of context 2048, --synth-type, "
                    + "written once to the temporary folder).")
    Path model;

    @Option(names = "--synth-type", defaultValue = "f32", paramLabel = "f32|q8_0",
            description = "Weight type of the synthetic model used without --model (default: ${DEFAULT-VALUE}).")
    String synthType;

    @Option(names = "--workers", defaultValue = "3", description = "Workers per cluster (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--workload", defaultValue = "both", paramLabel = "qa|chat|both",
            description = "Workload (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--sessions", defaultValue = "24", description = "Sessions per workload (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--concurrency", defaultValue = "12",
            description = "Sessions running at once (clients, closed loop, no think time; default: ${DEFAULT-VALUE}).")
    int concurrency;




    /** 1 thread (3 workers share 2 cores here), 1 turn at a time, a cache large enough that nothing is evicted. */
    @Mixin
    LocalClusterFlags cluster = new LocalClusterFlags(1, 512, 1);

    @Option(names = "--approaches", defaultValue = "stateless,stateful,hybrid", split = ",",
            description = "Approaches to run, in order (default: ${DEFAULT-VALUE}).")
    List<String> approaches;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of texts and sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print JSON instead of tables.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write results.json and results.txt here, and keep the cluster logs in DIR/logs.")
    Path out;

    @Override
    public Integer call() throws Exception {
        List<String> names = switch (workload.strip().toLowerCase(Locale.ROOT)) {
            case "qa" -> List.of("qa");
            case "chat" -> List.of("chat");
            case "both" -> ClusterWorkload.NAMES;
            default -> throw new UserError("--workload: qa, chat or both, got '" + workload + "'");
        };
        if (workers < 1 || workers > 16) {
            throw new UserError("--workers: must be in [1, 16], got " + workers);
        }
        if (sessions < 1 || sessions > 1000) {
            throw new UserError("--sessions: must be in [1, 1000], got " + sessions);
        }
        if (concurrency < 1 || concurrency > sessions) {
            throw new UserError("--concurrency: must be in [1, --sessions " + sessions + "], got " + concurrency);
        }
        if (cluster.threads() < 0 || cluster.capacity() < 1 || cluster.kvCacheMb() < 16) {
            throw new UserError("--threads >= 0, --capacity >= 1, --kv-cache-mb >= 16");
        }
        List<Approach> order = new ArrayList<>();
        try {
            for (String a : approaches) {
                Approach x = Approach.parse(a);
                if (!order.contains(x)) {
                    order.add(x);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        PrintWriter progress = spec.commandLine().getErr();
        Path modelFile = resolveModel(progress);
        ModelFacts facts = ModelFacts.read(modelFile);

        Map<String, ClusterWorkload> loads = new LinkedHashMap<>();
        for (String n : names) {
            loads.put(n, n.equals("qa") ? ClusterWorkload.qa(facts.tokens(), sessions, facts.context(), seed)
                    : ClusterWorkload.chat(facts.tokens(), sessions, seed));
        }
        Path logs = out != null ? out.resolve("logs") : Files.createTempDirectory("warmroute-bench-cluster");
        Files.createDirectories(logs);
        progress.printf("bench cluster: model %s, logs of the clusters in %s%n", modelFile, logs);

        Map<String, Map<Approach, ApproachReport>> results = new LinkedHashMap<>();
        names.forEach(n -> results.put(n, new EnumMap<>(Approach.class)));
        List<String> workerIds = new ArrayList<>();
        Instant started = Instant.now();
        for (Approach a : order) {
            progress.printf("bench cluster: %s: starting %d workers and a router (%s)%n", a.label, workers,
                    a.description);
            progress.flush();
            try (LocalCluster c = LocalCluster.start(clusterOptions(modelFile, logs, a), line -> { })) {
                workerIds.clear();
                c.workers().forEach(w -> workerIds.add(w.id()));
                warmUp(c.target(), workerIds, a);
                for (ClusterWorkload w : loads.values()) {
                    double before = loadAverage();
                    LoadRunner.Result r = LoadRunner.run(c.target(), w, seed, concurrency, progress,
                            a.label + "/" + w.name());
                    ApproachReport rep = ApproachReport.of(a, r, workerIds, before, loadAverage());
                    results.get(w.name()).put(a, rep);
                    progress.printf(Locale.ROOT, "bench cluster: %s/%s: %d turns in %.1f s, %d errors%n", a.label,
                            w.name(), rep.turns(), rep.wallSeconds(), rep.errors());
                }
            }
        }
        String machine = Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.arch") + ", java " + Runtime.version();
        Json doc = toJson(facts, loads, results, workerIds, machine, started);
        StringWriter table = new StringWriter();
        printTables(new PrintWriter(table), facts, loads, results, workerIds, machine);
        if (out != null) {
            Files.writeString(out.resolve("results.json"), doc + "\n");
            Files.writeString(out.resolve("results.txt"), table.toString());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.print(json ? doc + "\n" : table.toString());
        stdout.flush();
        return 0;
    }

    /**
     * One approach's cluster: every port picked by the OS and a cluster name of its own (no clash with a running
     * cluster or the previous approach's), logs in {@code logs/<approach>}, a queue long enough that the closed loop
     * never sees RESOURCE_EXHAUSTED.
     */
    private LocalClusterOptions clusterOptions(Path modelFile, Path logs, Approach a) {
        return cluster.applyTo(LocalClusterOptions.builder(modelFile, logs.resolve(a.label))).workers(workers)
                .routerPort(0).clusterName("bench-" + a.label + "-" + UUID.randomUUID().toString().substring(0, 8))
                .queue(1000)
                .statelessWorkers(a.statelessWorkers).placement(a.placement.flag())
                .shutdownGrace(Duration.ofSeconds(5)).readyTimeout(Duration.ofSeconds(240))
                .workerJvmFlags(List.of("-Xmx1g", "-XX:+UseParallelGC"))
                .routerJvmFlags(List.of("-Xmx384m", "-XX:+UseParallelGC")).build();
    }

    /** Runs two short turns on one session per worker (JIT of router, workers and client), then deletes them. */
    private void warmUp(String target, List<String> workerIds, Approach a) {
        try (ChatClient client = new ChatClient(target, LoadRunner.OWNER);
             LoadRunner.Deleter deleter = new LoadRunner.Deleter(target)) {
            SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(8).build();
            for (String w : workerIds) {
                String id = null;
                for (int i = 0; id == null; i++) {
                    String candidate = "warmup-" + a.label + "-" + i;
                    if (RendezvousHash.top(candidate, workerIds).equals(w)) {
                        id = candidate;
                    }
                }
                client.ensureSession(id, "", SessionSettings.newBuilder().setSampling(sampling).build(),
                        Duration.ofMinutes(2));
                for (int t = 0; t < 2; t++) {
                    client.send(ChatClient.message(id, "w" + t, "Tell me a short story about the sea, part " + t,
                            SamplingParams.getDefaultInstance()), d -> { }, Duration.ofMinutes(2));
                }
                deleter.delete(id);
            }
        }
    }

    private Path resolveModel(PrintWriter progress) throws IOException {
        return benchModel(model, synthType, progress, "bench cluster");
    }

    /**
     * The model of the cluster benchmarks: {@code model} when given, else a synthetic 15M model of context 2048 of
     * {@code synthType}, written once to the temporary folder and labelled SYNTHETIC in {@code progress}.
     */
    public static Path benchModel(Path model, String synthType, PrintWriter progress, String label)
            throws IOException {
        if (model != null) {
            if (!Files.isRegularFile(model)) {
                throw new UserError("--model: " + model + " is not a file");
            }
            return model;
        }
        GgmlType type = switch (synthType.strip().toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new UserError("--synth-type: f32 or q8_0, got '" + synthType + "'");
        };
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "warmroute-bench-models");
        Files.createDirectories(dir);
        Path file = dir.resolve("synthetic-15M-" + synthType.toLowerCase(Locale.ROOT) + "-seed1-ctx2048.gguf");
        if (!Files.isRegularFile(file)) {
            progress.printf("%s: writing a SYNTHETIC 15M model (%s, seed 1, context 2048) to %s%n", label,
                    synthType, file);
            Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            new SyntheticModel(SyntheticShape.S15M, type, 1, 2048).write(tmp);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } else {
            progress.printf("%s: using the SYNTHETIC model %s (no --model given)%n", label, file);
        }
        return file;
    }

    /** What the benchmark needs to know of the model, read without loading its weights. */
    record ModelFacts(String name, boolean synthetic, int context, String template, ToIntFunction<String> tokens) {
        static ModelFacts read(Path file) {
            try (GgufFile g = GgufFile.open(file)) {
                if (!g.contains("tokenizer.ggml.model")) {
                    throw new UserError("--model: " + file + " has no embedded tokenizer");
                }
                Tokenizer tok = GgufTokenizers.from(g);
                ChatTemplate t = ChatTemplates.forModel(g, tok).template();
                int context = g.getInt("llama.context_length", 0);
                if (context < 512) {
                    throw new UserError("--model: context length " + context + " is too short for the qa workload "
                            + "(half of it is the shared context); use a model of context 2048 or more");
                }
                return new ModelFacts(g.getString("general.name", file.getFileName().toString()),
                        g.contains("warmroute.synthetic"), context, t.name(), s -> t.encodeContent(s).length);
            } catch (RuntimeException e) {
                if (e instanceof UserError) {
                    throw e;
                }
                throw new UserError("--model: " + file + ": " + e.getMessage(), e);
            }
        }
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** Sessions per worker if each went to its rendezvous hash's first choice (what plain hashing does). */
    private Map<String, Integer> hashSpread(ClusterWorkload w, List<String> workerIds) {
        Map<String, Integer> spread = new LinkedHashMap<>();
        workerIds.forEach(id -> spread.put(id, 0));
        for (int i = 0; i < w.sessions(); i++) {
            spread.merge(RendezvousHash.top(w.sessionId(seed, i), workerIds), 1, Integer::sum);
        }
        return spread;
    }

    private void printTables(PrintWriter o, ModelFacts facts, Map<String, ClusterWorkload> loads,
            Map<String, Map<Approach, ApproachReport>> results, List<String> workerIds, String machine) {
        o.printf(Locale.ROOT, "bench cluster: model %s%s, context %d, template %s; %d workers (--threads %d, "
                + "--capacity %d each) and 1 router, separate JVMs on 127.0.0.1; %s%n", facts.name(),
                facts.synthetic() ? " (SYNTHETIC weights)" : "", facts.context(), facts.template(), workers, cluster.threads(),
                cluster.capacity(), machine);
        for (ClusterWorkload w : loads.values()) {
            Map<Approach, ApproachReport> r = results.get(w.name());
            o.println();
            o.printf(Locale.ROOT, "workload %s: %d sessions x %d turns, %d at once (closed loop); system prompt %d "
                    + "tokens, messages ~%d tokens, answers %d tokens; seed %d%n", w.name(), w.sessions(),
                    w.messages().getFirst().size(), concurrency, w.systemTokens(), w.messageTokens(), w.maxTokens(),
                    seed);
            o.printf("sessions per worker by the rendezvous hash (what plain hashing does): %s%n",
                    hashSpread(w, workerIds));
            o.printf(Locale.ROOT, "%-10s %12s %7s %9s %9s %8s %7s %6s %-22s %9s %-26s %9s %s%n", "approach",
                    "prefill tok", "vs 1", "TTFT p50", "TTFT p99", "turns/s", "speed", "errors", "turns per worker",
                    "max/mean", "prefill tokens per worker", "max/mean", "cache outcomes");
            ApproachReport base = r.get(Approach.STATELESS);
            for (ApproachReport a : r.values()) {
                o.printf(Locale.ROOT, "%-10s %12d %7s %9.1f %9.1f %8.2f %7s %6d %-22s %9.2f %-26s %9.2f %s%n",
                        a.approach().label, a.prefillTokens(),
                        base == null ? "-" : String.format(Locale.ROOT, "%.3f",
                                a.prefillTokens() / (double) base.prefillTokens()),
                        a.ttftP50(), a.ttftP99(), a.turnsPerSecond(),
                        base == null ? "-" : String.format(Locale.ROOT, "%.2fx",
                                a.turnsPerSecond() / base.turnsPerSecond()),
                        a.errors(), a.turnsPerWorker().values().toString(), a.maxOverMeanTurns(),
                        a.computedPerWorker().values().toString(), a.maxOverMeanComputed(), a.cache());
            }
            for (ApproachReport a : r.values()) {
                if (!a.errorSamples().isEmpty()) {
                    o.printf("%s errors, e.g.: %s%n", a.approach().label, a.errorSamples());
                }
            }
            o.printf("(prefill tok = sum of usage.computed_tokens; TTFT = client-measured, ms; vs 1 and speed = "
                    + "ratio to stateless; load average %s)%n", loadLine(r));
            o.printf(Locale.ROOT, "where a turn's time goes on its worker (Timings, mean ms per turn): %-10s %8s %8s "
                    + "%8s %8s %8s %8s %10s%n", "", "queue", "prepare", "prefill", "decode", "commit", "busy",
                    "busy vs 1");
            for (ApproachReport a : r.values()) {
                ApproachReport.WorkerTime t = a.time();
                o.printf(Locale.ROOT, "%-68s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %10s%n", "  " + a.approach().label,
                        t.queue(), t.prepare(), t.prefill(), t.decode(), t.commit(), t.busy(),
                        base == null ? "-" : String.format(Locale.ROOT, "%.2fx", base.time().busy() / t.busy()));
            }
            checks(o, r);
        }
    }

    private static String loadLine(Map<Approach, ApproachReport> r) {
        StringBuilder sb = new StringBuilder();
        r.values().forEach(a -> sb.append(sb.isEmpty() ? "" : ", ").append(a.approach().label)
                .append(String.format(Locale.ROOT, " %.1f -> %.1f", a.loadBefore(), a.loadAfter())));
        return sb.toString();
    }

    /** The targets, each met or not, with the measured value. */
    private static void checks(PrintWriter o, Map<Approach, ApproachReport> r) {
        ApproachReport s = r.get(Approach.STATELESS);
        ApproachReport f = r.get(Approach.STATEFUL);
        ApproachReport h = r.get(Approach.HYBRID);
        if (h == null) {
            return;
        }
        if (s != null) {
            check(o, "hybrid prefill tokens <= 1/5 of stateless", h.prefillTokens() / (double) s.prefillTokens(),
                    h.prefillTokens() <= s.prefillTokens() / 5.0);
            check(o, "hybrid TTFT p99 <= 1/3 of stateless", h.ttftP99() / s.ttftP99(), h.ttftP99() <= s.ttftP99() / 3);
            check(o, "hybrid turns/s >= 3x stateless", h.turnsPerSecond() / s.turnsPerSecond(),
                    h.turnsPerSecond() >= 3 * s.turnsPerSecond());
        }
        check(o, "hybrid: no worker above 1.25x mean turns", h.maxOverMeanTurns(), h.maxOverMeanTurns() <= 1.25);
        o.printf(Locale.ROOT, "  (hybrid prefill tokens per worker max/mean %.2f%s)%n", h.maxOverMeanComputed(),
                f == null ? "" : String.format(Locale.ROOT, "; stateful turns max/mean %.2f, prefill max/mean %.2f: "
                        + "the hot spot of plain hashing", f.maxOverMeanTurns(), f.maxOverMeanComputed()));
        boolean same = r.values().stream().map(ApproachReport::answersDigest).distinct().count() == 1
                && r.values().stream().allMatch(a -> a.errors() == 0);
        o.printf("  answers identical across approaches (same sessions, seeds and messages): %s (digest %s)%n",
                same ? "yes" : "NO", h.answersDigest());
    }

    private static void check(PrintWriter o, String what, double value, boolean met) {
        o.printf(Locale.ROOT, "  %-45s %8.3f  %s%n", what, value, met ? "met" : "NOT MET");
    }

    private Json toJson(ModelFacts facts, Map<String, ClusterWorkload> loads,
            Map<String, Map<Approach, ApproachReport>> results, List<String> workerIds, String machine,
            Instant started) {
        List<Json> workloads = new ArrayList<>();
        for (ClusterWorkload w : loads.values()) {
            Map<Approach, ApproachReport> r = results.get(w.name());
            List<Json> rows = new ArrayList<>();
            r.values().forEach(a -> rows.add(a.toJson()));
            Json j = Json.object().put("workload", w.name()).put("sessions", w.sessions())
                    .put("turns_per_session", w.messages().getFirst().size()).put("concurrency", concurrency)
                    .put("system_tokens", w.systemTokens()).put("message_tokens", w.messageTokens())
                    .put("answer_tokens", w.maxTokens()).put("hash_spread", toJson(hashSpread(w, workerIds)))
                    .put("approaches", rows);
            ApproachReport s = r.get(Approach.STATELESS);
            ApproachReport h = r.get(Approach.HYBRID);
            if (s != null && h != null) {
                j.put("hybrid_prefill_over_stateless", h.prefillTokens() / (double) s.prefillTokens())
                        .put("hybrid_p99_over_stateless", h.ttftP99() / s.ttftP99())
                        .put("hybrid_speedup_turns_per_s", h.turnsPerSecond() / s.turnsPerSecond());
            }
            if (h != null) {
                j.put("hybrid_turns_max_over_mean", h.maxOverMeanTurns());
            }
            j.put("answers_identical", r.values().stream().map(ApproachReport::answersDigest).distinct().count() == 1
                    && r.values().stream().allMatch(a -> a.errors() == 0));
            workloads.add(j);
        }
        return Json.object().put("model", facts.name()).put("synthetic", facts.synthetic())
                .put("context", facts.context()).put("machine", machine).put("workers", workers)
                .put("threads_per_worker", cluster.threads()).put("capacity_per_worker", cluster.capacity()).put("seed", seed)
                .put("started", started.toString()).put("workloads", workloads);
    }

    private static Json toJson(Map<String, Integer> m) {
        Json j = Json.object();
        m.forEach(j::put);
        return j;
    }
}

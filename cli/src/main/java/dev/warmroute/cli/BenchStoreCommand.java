package dev.warmroute.cli;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cluster.store.StoreSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the history store costs a warm turn: the same warm turns on clusters without a store, with the embedded H2
 * store and (given {@code --postgres}) with PostgreSQL, measured in turn, one turn of each per round, so that the
 * machine's drift hits all alike. Each variant is two real workers in this JVM (one Hazelcast cluster each, so a
 * commit has a real backup), real gRPC. Reports the worker's own total and commit times of warm turns (medians) and
 * the ratio to the variant without a store.
 */
@Command(name = "store", mixinStandardHelpOptions = true, description = {
        "Warm-turn latency with the history store on (write-through H2, PostgreSQL with --postgres) against",
        "without, measured in turn on two real workers per variant. Target: the store adds at most 10% to a warm",
        "turn's total time. Prints a table, or JSON with --json."})
final class BenchStoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model (default: the reference model).")
    Path model;

    @Option(names = "--postgres", paramLabel = "JDBC-URL", description = "Also measure this PostgreSQL store.")
    String postgres;

    @Option(names = "--sessions", defaultValue = "4", description = "Sessions per variant (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--rounds", defaultValue = "30", description = "Measured warm turns per session (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup-rounds", defaultValue = "100", description = {
            "Turns per session on separate sessions before measuring, not counted (default ${DEFAULT-VALUE}): a",
            "long-running worker's JDBC driver and database code are JIT-compiled; without warm-up the first few",
            "hundred store calls run interpreted and measure the JIT, not the store."})
    int warmupRounds;

    @Option(names = "--max-tokens", defaultValue = "16", description = "Answer length (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--threads", defaultValue = "1", description = "Threads of a forward pass (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--verbose", description = "Keep the workers' logs.")
    boolean verbose;

    /** One cluster under test. */
    private record Variant(String name, BenchWorkers workers, ChatClient client, List<Double> total,
            List<Double> commit, int[] notWarm) {}

    @Override
    public Integer call() throws Exception {
        if (sessions < 1 || sessions > 64 || rounds < 1 || rounds > 1000 || warmupRounds < 0 || warmupRounds > 1000) {
            throw new UserError("--sessions: 1..64, --rounds: 1..1000, --warmup-rounds: 0..1000");
        }
        Path data = Files.createTempDirectory("warmroute-bench-store");
        List<Variant> variants = new ArrayList<>();
        try {
            variants.add(start("none", null));
            variants.add(start("h2", StoreSettings.embeddedH2(data)));
            if (postgres != null && !postgres.isBlank()) {
                variants.add(start("postgres", StoreSettings.of(postgres, "", "")));
            }
            SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(maxTokens)
                    .setSeed(7).build();
            // Warm-up on sessions of their own, so the measured sessions start short, like the ones of a run
            // without warm-up: only the code is warm, not the sessions.
            runRounds(variants, WARMUP_SESSIONS, warmupRounds, sampling, false);
            runRounds(variants, 0, rounds, sampling, true);
            print(variants);
            return 0;
        } finally {
            for (Variant v : variants) {
                v.client.close();
                v.workers.close();
            }
            try (var files = Files.walk(data)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static final int WARMUP_SESSIONS = 1000;

    /** Opens sessions {@code first..first+sessions-1} (a cold and a warm turn each), then {@code rounds} turns each. */
    private void runRounds(List<Variant> variants, int first, int rounds, SamplingParams sampling, boolean record) {
        for (Variant v : variants) {
            for (int s = first; s < first + sessions; s++) {
                v.client.ensureSession(sessionId(s), BenchTtftCommand.SYSTEM,
                        SessionSettings.newBuilder().setSampling(sampling).build(), Duration.ofSeconds(30));
                turn(v, s, -1, sampling); // the first turn is cold; the measured ones are warm
                turn(v, s, -2, sampling);
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (int s = first; s < first + sessions; s++) {
                // Rotate the order each round: no variant always goes first after the others' work.
                for (int k = 0; k < variants.size(); k++) {
                    Variant v = variants.get((k + r + s) % variants.size());
                    TurnComplete c = turn(v, s, r, sampling);
                    if (!record) {
                        continue;
                    }
                    if (c.getCache().getStatus() == CacheStatus.CACHE_STATUS_WARM) {
                        v.total.add(c.getTimings().getTotalMs());
                        v.commit.add(c.getTimings().getCommitMs());
                    } else {
                        v.notWarm[0]++;
                    }
                }
            }
        }
    }

    private Variant start(String name, StoreSettings store) throws java.io.IOException {
        BenchWorkers w = new BenchWorkers(model, 2, threads, 64, verbose, store);
        return new Variant(name, w, new ChatClient(w.get(0).address(), "bench"), new ArrayList<>(),
                new ArrayList<>(), new int[1]);
    }

    /**
     * Session ids of this run only: a PostgreSQL store keeps the sessions of earlier runs, whose turns with the same
     * request ids would be replayed from the store (not computed, not warm) instead of measured.
     */
    private static String sessionId(int session) {
        return "bench-" + RUN + "-" + session;
    }

    private static final String RUN = Long.toString(System.currentTimeMillis(), 36);

    private static TurnComplete turn(Variant v, int session, int round, SamplingParams sampling) {
        String text = "Tell me about " + BenchTtftCommand.TOPICS[Math.floorMod(round + session,
                BenchTtftCommand.TOPICS.length)] + ".";
        return v.client.send(ChatClient.message(sessionId(session), "r" + round, text, sampling), d -> { },
                Duration.ofSeconds(60)).complete();
    }

    private void print(List<Variant> variants) {
        PrintWriter out = spec.commandLine().getOut();
        double base = BenchWorkers.median(variants.getFirst().total);
        String load = loadAverage();
        if (json) {
            List<Json> rows = new ArrayList<>();
            for (Variant v : variants) {
                rows.add(Json.object().put("store", v.name).put("warm_turns", v.total.size())
                        .put("not_warm", v.notWarm[0]).put("total_ms_p50", BenchWorkers.median(v.total))
                        .put("total_ms_p90", BenchWorkers.percentile(v.total, 90))
                        .put("commit_ms_p50", BenchWorkers.median(v.commit))
                        .put("total_vs_none", BenchWorkers.median(v.total) / base));
            }
            out.println(Json.object().put("bench", "store").put("sessions", sessions).put("rounds", rounds).put("warmup_rounds", warmupRounds)
                    .put("max_tokens", maxTokens).put("threads", threads).put("load_average", load)
                    .put("cores", Runtime.getRuntime().availableProcessors()).put("variants", rows));
        } else {
            TextTable t = new TextTable("store", "warm turns", "not warm", "total p50 ms", "total p90 ms", "commit p50 ms",
                    "total vs none");
            for (Variant v : variants) {
                t.row(v.name, v.total.size(), v.notWarm[0], f(BenchWorkers.median(v.total)), f(BenchWorkers.percentile(v.total, 90)),
                        f(BenchWorkers.median(v.commit)), String.format(Locale.ROOT, "%.3f",
                                BenchWorkers.median(v.total) / base));
            }
            t.print(out, "");
            out.println("load average: " + load + "; " + Runtime.getRuntime().availableProcessors() + " cores");
        }
        out.flush();
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}

package dev.warmroute.cli;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cli.cluster.LocalClusterFlags;
import dev.warmroute.cluster.launch.LocalCluster;
import dev.warmroute.cluster.launch.LocalClusterOptions;
import dev.warmroute.engine.ModelLocator;
import dev.warmroute.router.RendezvousHash;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The router's two numbers: what the extra hop costs on a warm turn, and how many sessions a fourth worker takes.
 *
 * <p>Hop: one worker and one router in their own JVMs on 127.0.0.1; warm sessions take turns alternately through the
 * router and straight to the worker (order alternating per round, so drift hits both alike), and the client measures
 * the time to the first token of each. Join: rendezvous hashing of many session ids over three worker ids, then four.
 */
@Command(name = "router", description = {
        "Router benchmarks: added latency of the router hop on warm turns (direct to the worker vs via the router,",
        "same run, same sessions), and the share of sessions that move when a 4th worker joins (hash placement).",
        "Starts one worker and one router as separate JVMs. Prints a table, or JSON with --json."})
final class BenchRouterCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE",
            description = "GGUF model for the worker (default: the reference model).")
    Path model;

    @Option(names = "--sessions", defaultValue = "8", description = "Warm sessions (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--rounds", defaultValue = "25",
            description = "Rounds; each session takes one turn each way per round (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup", defaultValue = "40",
            description = {"Warm-up rounds before measuring, each one turn per session each way (default: "
                    + "${DEFAULT-VALUE}). The per-call code paths of gRPC in the client, router and worker JVMs run",
                    "once per turn and take a few hundred turns to be JIT-compiled; with too few the hop measures the",
                    "interpreter, not the router (docs/benchmarks.md, Router)."})
    int warmup;

    @Option(names = "--max-tokens", defaultValue = "8", description = "Tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;



    /** All cores for the one worker, a cache large enough that no session is evicted. */
    @Mixin
    LocalClusterFlags cluster = new LocalClusterFlags(0, 1024, 2);

    @Option(names = "--hash-sessions", defaultValue = "200000",
            description = "Session ids hashed for the join figure (default: ${DEFAULT-VALUE}).")
    int hashSessions;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (sessions < 1 || rounds < 2 || warmup < 1 || maxTokens < 1 || hashSessions < 1000) {
            throw new UserError("--sessions >= 1, --rounds >= 2, --warmup >= 1, --max-tokens >= 1, "
                    + "--hash-sessions >= 1000");
        }
        Path modelFile = model != null ? model : ModelLocator.referenceModel(System.getenv());
        if (!Files.isRegularFile(modelFile)) {
            throw new UserError("model: " + modelFile + " is not a file (--model, or put the reference model in "
                    + "../shared/models/)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        double join = joinShare(hashSessions);
        Hop hop = measureHop(modelFile, err);

        String machine = Runtime.getRuntime().availableProcessors() + " cores, java " + Runtime.version();
        if (json) {
            out.println(Json.object().put("model", hop.modelId).put("machine", machine).put("sessions", sessions)
                    .put("rounds", rounds).put("warmup_rounds", warmup).put("max_tokens", maxTokens)
                    .put("ttft_direct_p50_ms", hop.direct.p50()).put("ttft_router_p50_ms", hop.router.p50())
                    .put("ttft_direct_p90_ms", hop.direct.p90()).put("ttft_router_p90_ms", hop.router.p90())
                    .put("total_direct_p50_ms", hop.directTotal.p50()).put("total_router_p50_ms", hop.routerTotal.p50())
                    .put("outside_worker_direct_p50_ms", hop.outsideDirect.p50())
                    .put("outside_worker_router_p50_ms", hop.outsideRouter.p50())
                    .put("added_ms_p50", hop.added())
                    .put("added_pct_of_ttft", 100 * hop.added() / hop.direct.p50())
                    .put("ttft_difference_ms_p50", hop.router.p50() - hop.direct.p50())
                    .put("router_ms_p50", hop.routerMs.p50())
                    .put("worker_ttft_direct_p50_ms", hop.workerDirect.p50())
                    .put("worker_ttft_router_p50_ms", hop.workerRouter.p50()).put("not_warm_turns", hop.notWarm)
                    .put("join_moved_share", join).put("join_target_share", 1.1 / 4)
                    .put("hash_sessions", hashSessions));
            return 0;
        }
        out.printf(Locale.ROOT, "model %s; %d sessions x %d rounds after %d warm-up rounds, %d tokens per answer; %s%n",
                hop.modelId, sessions, rounds, warmup, maxTokens, machine);
        out.printf(Locale.ROOT, "%-34s %10s %10s %10s%n", "warm turn (client-measured)", "direct", "via router",
                "added");
        row(out, "time to first token p50 (ms)", hop.direct.p50(), hop.router.p50());
        row(out, "time to first token p90 (ms)", hop.direct.p90(), hop.router.p90());
        row(out, "whole turn p50 (ms)", hop.directTotal.p50(), hop.routerTotal.p50());
        row(out, "worker-measured TTFT p50 (ms)", hop.workerDirect.p50(), hop.workerRouter.p50());
        row(out, "TTFT outside the worker p50 (ms)", hop.outsideDirect.p50(), hop.outsideRouter.p50());
        out.printf(Locale.ROOT, "added latency of the hop (TTFT outside the worker, router - direct): %.3f ms = %.1f%% "
                + "of direct TTFT (target <= 5%%); router's own time before calling the worker "
                + "(RoutingInfo.router_ms) p50 %.3f ms; %d turns not warm left out %s%n", hop.added(),
                100 * hop.added() / hop.direct.p50(), hop.routerMs.p50(), hop.notWarm, hop.notWarmWhy);
        out.printf(Locale.ROOT, "4th worker joins (rendezvous hash, %d sessions): %.4f moved (1/4 = 0.25, target <= "
                + "%.4f); bound sessions keep their binding and do not move at all%n", hashSessions, join, 1.1 / 4);
        return 0;
    }

    private static void row(PrintWriter out, String name, double direct, double router) {
        out.printf(Locale.ROOT, "%-34s %10.3f %10.3f %+10.3f%n", name, direct, router, router - direct);
    }

    /** Share of session ids whose rendezvous choice changes when a fourth worker joins three. */
    static double joinShare(int n) {
        List<String> three = List.of("127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103");
        List<String> four = List.of("127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103", "127.0.0.1:7104");
        int moved = 0;
        for (int i = 0; i < n; i++) {
            String s = "s-" + Integer.toHexString(i * 0x9E3779B1) + "-" + i;
            if (!RendezvousHash.top(s, three).equals(RendezvousHash.top(s, four))) {
                moved++;
            }
        }
        return moved / (double) n;
    }

    record Stats(double[] values) {
        static Stats of(List<Double> v) {
            return new Stats(v.stream().mapToDouble(Double::doubleValue).sorted().toArray());
        }

        double p(double q) {
            if (values.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))));
            return values[i];
        }

        double p50() {
            return p(0.5);
        }

        double p90() {
            return p(0.9);
        }
    }

    record Hop(String modelId, Stats direct, Stats router, Stats directTotal, Stats routerTotal, Stats routerMs,
            Stats workerDirect, Stats workerRouter, Stats outsideDirect, Stats outsideRouter, int notWarm,
            Map<String, Integer> notWarmWhy) {

        /** The hop's cost: time outside the worker via the router minus the same straight to the worker. */
        double added() {
            return outsideRouter.p50() - outsideDirect.p50();
        }
    }

    private Hop measureHop(Path modelFile, PrintWriter err) throws Exception {
        Path dir = Files.createTempDirectory("warmroute-bench-router");
        err.println("bench router: starting a worker and a router (logs in " + dir + ") ...");
        // Default JVM flags (no heap limit, default GC): the hop is measured as `warmroute worker|router` run.
        LocalClusterOptions options = cluster.applyTo(LocalClusterOptions.builder(modelFile, dir)).workers(1)
                .routerPort(0).clusterName("bench-" + ProcessHandle.current().pid())
                .workerJvmFlags(List.of()).routerJvmFlags(List.of()).build();
        try (LocalCluster cluster = LocalCluster.start(options, line -> { });
             ChatClient viaRouter = new ChatClient(cluster.target(), "bench");
             ChatClient direct = new ChatClient(cluster.workers().getFirst().grpcAddress(), "bench")) {
            return run(viaRouter, direct, err);
        } finally {
            err.println("bench router: stopping");
        }
    }

    private Hop run(ChatClient viaRouter, ChatClient direct, PrintWriter err) throws Exception {
        Duration deadline = Duration.ofSeconds(120);
        SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(maxTokens).build();
        List<String> ids = new ArrayList<>();
        String modelId = "";
        // The router may need a moment to see the worker's health after its ready file: retry the first call.
        for (int i = 0; i < sessions; i++) {
            String id = "bench-" + ProcessHandle.current().pid() + "-" + i;
            for (int attempt = 0; ; attempt++) {
                try {
                    modelId = viaRouter.ensureSession(id, "", SessionSettings.newBuilder().setSampling(sampling)
                            .build(), deadline).getModelId();
                    break;
                } catch (io.grpc.StatusRuntimeException e) {
                    if (attempt > 100) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
            ids.add(id);
        }
        // Warm-up: the first turn of each session is cold; the rest lets the JITs of all three JVMs compile the
        // per-call paths (stream creation, headers, interceptors), which run only once per turn.
        int turn = 0;
        for (int k = 0; k < warmup; k++) {
            for (String id : ids) {
                viaRouter.send(ChatClient.message(id, null, question(turn++), sampling), d -> { }, deadline);
                direct.send(ChatClient.message(id, null, question(turn++), sampling), d -> { }, deadline);
            }
        }
        List<Double> ttftDirect = new ArrayList<>();
        List<Double> ttftRouter = new ArrayList<>();
        List<Double> totalDirect = new ArrayList<>();
        List<Double> totalRouter = new ArrayList<>();
        List<Double> routerMs = new ArrayList<>();
        List<Double> workerDirect = new ArrayList<>();
        List<Double> workerRouter = new ArrayList<>();
        List<Double> outsideDirect = new ArrayList<>();
        List<Double> outsideRouter = new ArrayList<>();
        Map<String, Integer> notWarmWhy = new java.util.TreeMap<>();
        int notWarm = 0;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < ids.size(); i++) {
                boolean routerFirst = (round + i) % 2 == 0;
                for (int leg = 0; leg < 2; leg++) {
                    boolean viaR = (leg == 0) == routerFirst;
                    long t0 = System.nanoTime();
                    ChatClient.TurnResult t = (viaR ? viaRouter : direct).send(
                            ChatClient.message(ids.get(i), null, question(turn++), sampling), d -> { }, deadline);
                    double total = (System.nanoTime() - t0) / 1e6;
                    if (t.complete().getCache().getStatus() != CacheStatus.CACHE_STATUS_WARM) {
                        notWarm++; // e.g. a pruning cut in a long conversation: not a warm turn, not compared
                        notWarmWhy.merge(t.trailer("x-warmroute-cache"), 1, Integer::sum);
                        continue;
                    }
                    (viaR ? ttftRouter : ttftDirect).add(t.firstDeltaMs());
                    (viaR ? totalRouter : totalDirect).add(total);
                    (viaR ? workerRouter : workerDirect).add(t.complete().getTimings().getTtftMs());
                    // Time outside the worker's own measurement: network, client and (via router) the hop. The
                    // worker's compute time, which varies most on a busy machine, cancels out.
                    (viaR ? outsideRouter : outsideDirect).add(t.firstDeltaMs() - t.complete().getTimings().getTtftMs());
                    if (viaR) {
                        routerMs.add(t.complete().getRouting().getRouterMs());
                    }
                }
            }
            if ((round + 1) % 5 == 0) {
                err.printf(Locale.ROOT, "bench router: round %d/%d%n", round + 1, rounds);
            }
        }
        return new Hop(modelId, Stats.of(ttftDirect), Stats.of(ttftRouter), Stats.of(totalDirect),
                Stats.of(totalRouter), Stats.of(routerMs), Stats.of(workerDirect), Stats.of(workerRouter), Stats.of(outsideDirect), Stats.of(outsideRouter), notWarm, notWarmWhy);
    }

    private static final String[] QUESTIONS = {"What did the little dog find?", "Where did they go next?",
        "Who was there?", "What happened then?", "Why was she happy?", "What did he say?"};

    static String question(int i) {
        return QUESTIONS[i % QUESTIONS.length] + " (" + i + ")";
    }

}

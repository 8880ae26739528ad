package dev.warmroute.cli;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.worker.WorkerServer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Time to first token of a turn whose history is H tokens: warm (worker A served the previous turn: only the new
 * message is computed) against cold (worker B never held the session: the whole prompt is computed from the stored
 * history). Two real workers in this JVM, one Hazelcast cluster, real gRPC; each repetition uses a fresh copy of the
 * same history, so the warm and the cold turn have exactly the same prompt.
 */
@Command(name = "ttft", mixinStandardHelpOptions = true, description = {
        "Time to first token of turn N, warm vs cold, for histories of about 128, 512 and the model's full",
        "context (two real workers in this JVM, real gRPC and Hazelcast). Target: cold/warm >= 0.8 x",
        "(prompt tokens / new tokens). Prints a table, or JSON with --json."})
final class BenchTtftCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model (default: the reference model).")
    java.nio.file.Path model;

    @Option(names = "--histories", defaultValue = "128,512,full", split = ",",
            description = "History sizes in tokens; 'full' = the model's context (default: ${DEFAULT-VALUE}).")
    List<String> histories;

    @Option(names = "--repetitions", defaultValue = "5", description = "Measured warm/cold pairs per history, after"
            + " one warm-up pair (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--threads", defaultValue = "0", description = "Threads of a forward pass; 0 = all cores "
            + "(default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--answer-tokens", defaultValue = "32", description = "Answer length of the turns that build the "
            + "history (default: ${DEFAULT-VALUE}).")
    int answerTokens;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--verbose", description = "Keep the workers' logs.")
    boolean verbose;

    static final String SYSTEM = "You are a storyteller who answers every question with a short story.";
    static final String[] TOPICS = {"a cat", "a dog", "the sea", "a tree", "a red ball", "the moon", "a little bird",
            "a big truck", "a garden", "the rain", "a birthday", "a castle", "a boat", "the snow", "a lost key"};
    static final String MEASURED = "What happened after that?";

    record Row(String label, int promptTokens, int newTokens, double warmMs, double coldMs, double warmWorkerMs,
            double coldWorkerMs, String warmCache, String coldCache, double warmPrepareMs, double warmPrefillMs,
            double coldPrepareMs, double coldPrefillMs) {
        double ratio() {
            return coldMs / warmMs;
        }

        double target() {
            return 0.8 * promptTokens / newTokens;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (repetitions < 1 || repetitions > 100) {
            throw new UserError("--repetitions: must be 1..100, got " + repetitions);
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        String modelId;
        boolean synthetic;
        int context;
        try (BenchWorkers workers = new BenchWorkers(model, 2, threads, 1024, verbose);
             ChatClient toA = new ChatClient(workers.get(0).address(), null);
             ChatClient toB = new ChatClient(workers.get(1).address(), null)) {
            WorkerServer a = workers.get(0);
            var stats = a.stats();
            modelId = stats.getModelId();
            synthetic = stats.getModelSynthetic();
            context = stats.getContextLength();
            for (String h : histories) {
                int target = parseHistory(h, context);
                rows.add(measure(workers, toA, toB, h, target));
                if (!json) {
                    out.println("measured " + h + " ...");
                    out.flush();
                }
            }
        }
        if (json) {
            List<Object> list = new ArrayList<>();
            for (Row r : rows) {
                list.add(Json.object().put("history", r.label()).put("prompt_tokens", r.promptTokens())
                        .put("new_tokens", r.newTokens()).put("warm_ttft_ms", r.warmMs()).put("cold_ttft_ms", r.coldMs())
                        .put("warm_worker_ttft_ms", r.warmWorkerMs()).put("cold_worker_ttft_ms", r.coldWorkerMs())
                        .put("ratio", r.ratio()).put("target_ratio", r.target()).put("met", r.ratio() >= r.target())
                        .put("warm_cache", r.warmCache()).put("cold_cache", r.coldCache())
                        .put("warm_prepare_ms", r.warmPrepareMs()).put("warm_prefill_ms", r.warmPrefillMs())
                        .put("cold_prepare_ms", r.coldPrepareMs()).put("cold_prefill_ms", r.coldPrefillMs()));
            }
            out.println(Json.object().put("model", modelId).put("synthetic", synthetic).put("context", context)
                    .put("repetitions", repetitions).put("rows", list));
        } else {
            out.printf(Locale.ROOT, "model %s%s, context %d, median of %d repetitions (client-side TTFT; worker-side in"
                    + " brackets)%n", modelId, synthetic ? " (SYNTHETIC)" : "", context, repetitions);
            out.printf(Locale.ROOT, "%-8s %7s %5s %18s %18s %7s %7s %4s%n", "history", "prompt", "new", "warm ms",
                    "cold ms", "ratio", "target", "met");
            for (Row r : rows) {
                out.printf(Locale.ROOT, "%-8s %7d %5d %8.1f [%6.1f] %8.1f [%6.1f] %7.1f %7.1f %4s%n", r.label(),
                        r.promptTokens(), r.newTokens(), r.warmMs(), r.warmWorkerMs(), r.coldMs(), r.coldWorkerMs(),
                        r.ratio(), r.target(), r.ratio() >= r.target() ? "yes" : "no");
            }
            out.printf(Locale.ROOT, "%nworker-side breakdown (median ms): prepare = record read + window + cache lookup;"
                    + " prefill = computing the prompt tokens not in the cache%n");
            out.printf(Locale.ROOT, "%-8s %12s %12s %12s %12s%n", "history", "warm prep", "warm prefill",
                    "cold prep", "cold prefill");
            for (Row r : rows) {
                out.printf(Locale.ROOT, "%-8s %12.1f %12.1f %12.1f %12.1f%n", r.label(), r.warmPrepareMs(),
                        r.warmPrefillMs(), r.coldPrepareMs(), r.coldPrefillMs());
            }
        }
        return 0;
    }

    static int parseHistory(String h, int context) {
        if (h.equalsIgnoreCase("full")) {
            return context - 96;
        }
        try {
            int v = Integer.parseInt(h.strip());
            if (v < 64 || v > context - 96) {
                throw new UserError("--histories: " + v + " is outside [64, " + (context - 96) + "] for this model");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new UserError("--histories: '" + h + "' is not a number or 'full'");
        }
    }

    private Row measure(BenchWorkers workers, ChatClient toA, ChatClient toB, String label, int target) {
        Duration deadline = Duration.ofMinutes(10);
        String base = "ttft-" + label + "-base";
        SessionSettings settings = SessionSettings.newBuilder().setSampling(SamplingParams.newBuilder()
                .setTemperature(0).setMaxTokens(answerTokens)).build();
        toA.ensureSession(base, SYSTEM, settings, deadline);
        // Grow the history on A until one more turn would pass the target, leaving room for the two short turns
        // every repetition adds (the previous turn, then the measured one: about 50 tokens each).
        int turnSize = 0;
        int room = 100;
        for (int i = 0; ; i++) {
            int window = toA.windowTokens(base, deadline);
            if (window + turnSize + room > target || i > 10_000) {
                break;
            }
            var r = toA.send(ChatClient.message(base, "grow-" + i, "Tell me a story about " + TOPICS[i % TOPICS.length]
                    + ".", SamplingParams.getDefaultInstance()), d -> { }, deadline);
            turnSize = toA.windowTokens(base, deadline) - window;
        }
        List<Double> warm = new ArrayList<>();
        List<Double> cold = new ArrayList<>();
        List<Double> warmWorker = new ArrayList<>();
        List<Double> coldWorker = new ArrayList<>();
        List<Double> warmPrepare = new ArrayList<>();
        List<Double> warmPrefill = new ArrayList<>();
        List<Double> coldPrepare = new ArrayList<>();
        List<Double> coldPrefill = new ArrayList<>();
        int prompt = 0;
        int fresh = 0;
        String warmCache = "";
        String coldCache = "";
        SamplingParams measured = SamplingParams.newBuilder().setMaxTokens(4).build();
        for (int rep = -1; rep < repetitions; rep++) {
            String w = base + "-w" + (rep + 1);
            String c = base + "-c" + (rep + 1);
            workers.cloneSession(base, w);
            // A serves the previous turn of w: its cache then holds exactly what a warm worker holds.
            toA.send(ChatClient.message(w, "prev", "Tell me one more thing.", measured), d -> { }, deadline);
            workers.cloneSession(w, c);
            var rw = toA.send(ChatClient.message(w, "m", MEASURED, measured), d -> { }, deadline);
            var rc = toB.send(ChatClient.message(c, "m", MEASURED, measured), d -> { }, deadline);
            if (rw.complete().getCache().getStatus() != CacheStatus.CACHE_STATUS_WARM
                    || rc.complete().getCache().getStatus() != CacheStatus.CACHE_STATUS_COLD) {
                throw new IllegalStateException("expected warm on A and cold on B, got "
                        + rw.complete().getCache() + " / " + rc.complete().getCache());
            }
            if (!rw.complete().getText().equals(rc.complete().getText())) {
                throw new IllegalStateException("warm and cold answers differ: '" + rw.complete().getText() + "' vs '"
                        + rc.complete().getText() + "'");
            }
            if (rep >= 0) {
                warm.add(rw.firstDeltaMs());
                cold.add(rc.firstDeltaMs());
                warmWorker.add(rw.complete().getTimings().getTtftMs());
                coldWorker.add(rc.complete().getTimings().getTtftMs());
                warmPrepare.add(rw.complete().getTimings().getPrepareMs());
                warmPrefill.add(rw.complete().getTimings().getPrefillMs());
                coldPrepare.add(rc.complete().getTimings().getPrepareMs());
                coldPrefill.add(rc.complete().getTimings().getPrefillMs());
            }
            prompt = rc.complete().getUsage().getPromptTokens();
            fresh = rw.complete().getUsage().getComputedTokens();
            warmCache = rw.trailer("x-warmroute-cache");
            coldCache = rc.trailer("x-warmroute-cache");
        }
        return new Row(label, prompt, fresh, BenchWorkers.median(warm), BenchWorkers.median(cold),
                BenchWorkers.median(warmWorker), BenchWorkers.median(coldWorker), warmCache, coldCache,
                BenchWorkers.median(warmPrepare), BenchWorkers.median(warmPrefill), BenchWorkers.median(coldPrepare),
                BenchWorkers.median(coldPrefill));
    }
}

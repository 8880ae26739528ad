package dev.warmroute.cli;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.chat.ChatClient;
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
 * The pruning comparison: one long conversation per policy on one real worker, with a small context budget so the
 * window overflows early, counting prompt tokens computed per turn. WATERMARK cuts down to the low watermark in one
 * step (one full recompute, then warm turns); DROP_OLDEST (the seed's policy) drops one turn at a time, so once the
 * window is full every turn shifts the positions and is a full recompute.
 */
@Command(name = "window", mixinStandardHelpOptions = true, description = {
        "Prefill tokens per turn over a long conversation, pruning policy WATERMARK vs DROP_OLDEST (one real",
        "worker in this JVM). Prints a table, or JSON with every turn's figures with --json."})
final class BenchWindowCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model (default: the reference model).")
    java.nio.file.Path model;

    @Option(names = "--turns", defaultValue = "80", description = "Turns per conversation (default: ${DEFAULT-VALUE}).")
    int turns;

    @Option(names = "--budget", defaultValue = "1024", description = "Context budget of the sessions in tokens "
            + "(default: ${DEFAULT-VALUE}).")
    int budget;

    @Option(names = "--answer-tokens", defaultValue = "32", description = "Answer length (default: ${DEFAULT-VALUE}).")
    int answerTokens;

    @Option(names = "--low-watermark", defaultValue = "75", description = "Watermark percent (default: ${DEFAULT-VALUE}).")
    int lowWatermark;

    @Option(names = "--threads", defaultValue = "0", description = "Threads of a forward pass; 0 = all cores "
            + "(default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print JSON (with every turn) instead of a table.")
    boolean json;

    @Option(names = "--verbose", description = "Keep the worker's logs.")
    boolean verbose;

    record TurnFigures(int prompt, int reused, int computed, String cache, int windowStart, boolean cut,
            double ttftMs) {}

    record Summary(String policy, List<TurnFigures> turns) {
        long computed() {
            return turns.stream().mapToLong(TurnFigures::computed).sum();
        }

        long cuts() {
            return turns.stream().filter(TurnFigures::cut).count();
        }

        long warm() {
            return turns.stream().filter(t -> t.cache().equals("warm")).count();
        }

        /** Turns that computed more than half of their prompt (a cut, or the first turn). */
        long recomputes() {
            return turns.stream().filter(t -> 2L * t.computed() > t.prompt()).count();
        }

        List<Double> ttft() {
            return turns.stream().map(TurnFigures::ttftMs).toList();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (turns < 2 || turns > 10_000) {
            throw new UserError("--turns: must be 2..10000, got " + turns);
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Summary> results = new ArrayList<>();
        String modelId;
        try (BenchWorkers workers = new BenchWorkers(model, 1, threads, 256, verbose);
             ChatClient client = new ChatClient(workers.get(0).address(), null)) {
            modelId = workers.get(0).modelId();
            if (budget < 64 || budget > workers.get(0).stats().getContextLength()) {
                throw new UserError("--budget: must be 64.." + workers.get(0).stats().getContextLength());
            }
            Duration deadline = Duration.ofMinutes(10);
            // Warm-up (not measured): the JIT compiles the engine's kernels during the first turns.
            client.ensureSession("window-warmup", BenchTtftCommand.SYSTEM, SessionSettings.newBuilder()
                    .setSampling(SamplingParams.newBuilder().setTemperature(0).setMaxTokens(answerTokens)).build(),
                    deadline);
            for (int i = 0; i < 5; i++) {
                client.send(ChatClient.message("window-warmup", "w" + i, "Tell me about " + BenchTtftCommand.TOPICS[i]
                        + ".", SamplingParams.getDefaultInstance()), d -> { }, deadline);
            }
            for (PruningPolicy policy : List.of(PruningPolicy.PRUNING_POLICY_WATERMARK,
                    PruningPolicy.PRUNING_POLICY_DROP_OLDEST)) {
                String session = "window-" + policy.name().toLowerCase(Locale.ROOT);
                client.ensureSession(session, BenchTtftCommand.SYSTEM, SessionSettings.newBuilder()
                        .setContextBudgetTokens(budget).setPruningPolicy(policy).setLowWatermarkPercent(lowWatermark)
                        .setSampling(SamplingParams.newBuilder().setTemperature(0).setMaxTokens(answerTokens))
                        .build(), deadline);
                List<TurnFigures> figures = new ArrayList<>();
                for (int i = 0; i < turns; i++) {
                    String topic = BenchTtftCommand.TOPICS[i % BenchTtftCommand.TOPICS.length];
                    TurnComplete c = client.send(ChatClient.message(session, "t" + i, "Question " + (i + 1)
                            + ": tell me something new about " + topic + ".", SamplingParams.getDefaultInstance()),
                            d -> { }, deadline).complete();
                    figures.add(new TurnFigures(c.getUsage().getPromptTokens(), c.getUsage().getReusedTokens(),
                            c.getUsage().getComputedTokens(), cache(c), c.getWindow().getWindowStart(),
                            c.getWindow().getPruned(), c.getTimings().getTtftMs()));
                }
                results.add(new Summary(policy.name().substring("PRUNING_POLICY_".length()), figures));
            }
        }
        if (json) {
            List<Object> list = new ArrayList<>();
            for (Summary s : results) {
                List<Object> per = new ArrayList<>();
                for (TurnFigures t : s.turns()) {
                    per.add(Json.object().put("prompt", t.prompt()).put("reused", t.reused())
                            .put("computed", t.computed()).put("cache", t.cache()).put("window_start", t.windowStart())
                            .put("cut", t.cut()).put("ttft_ms", t.ttftMs()));
                }
                list.add(Json.object().put("policy", s.policy()).put("computed_tokens", s.computed())
                        .put("computed_per_turn", (double) s.computed() / s.turns().size()).put("cuts", s.cuts())
                        .put("warm_turns", s.warm()).put("recompute_turns", s.recomputes())
                        .put("ttft_p50_ms", BenchWorkers.percentile(s.ttft(), 50))
                        .put("ttft_p95_ms", BenchWorkers.percentile(s.ttft(), 95)).put("turns", per));
            }
            out.println(Json.object().put("model", modelId).put("budget", budget).put("answer_tokens", answerTokens)
                    .put("low_watermark", lowWatermark).put("policies", list));
        } else {
            out.printf(Locale.ROOT, "model %s, %d turns, context budget %d, answers of %d tokens, low watermark %d%%%n",
                    modelId, turns, budget, answerTokens, lowWatermark);
            out.printf(Locale.ROOT, "%-12s %14s %10s %6s %6s %16s %10s %10s%n", "policy", "prefill tokens",
                    "per turn", "cuts", "warm", "recomputes", "ttft p50", "ttft p95");
            for (Summary s : results) {
                out.printf(Locale.ROOT, "%-12s %14d %10.1f %6d %6d %16d %10.1f %10.1f%n", s.policy(), s.computed(),
                        (double) s.computed() / s.turns().size(), s.cuts(), s.warm(), s.recomputes(),
                        BenchWorkers.percentile(s.ttft(), 50), BenchWorkers.percentile(s.ttft(), 95));
            }
            if (results.size() == 2) {
                out.printf(Locale.ROOT, "DROP_OLDEST computes %.2fx the prompt tokens of WATERMARK%n",
                        (double) results.get(1).computed() / results.get(0).computed());
            }
        }
        return 0;
    }

    private static String cache(TurnComplete c) {
        CacheStatus s = c.getCache().getStatus();
        String name = s.name().substring("CACHE_STATUS_".length()).toLowerCase(Locale.ROOT);
        return c.getCache().getReason() == CacheReason.CACHE_REASON_NONE ? name
                : name + ":" + c.getCache().getReason().name().substring("CACHE_REASON_".length())
                        .toLowerCase(Locale.ROOT);
    }
}

package dev.warmroute.cli.benchcluster;

import dev.warmroute.cli.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The figures of one approach on one workload, from the turns the client saw. */
record ApproachReport(Approach approach, int turns, int errors, long prefillTokens, long promptTokens,
        long generatedTokens, double ttftP50, double ttftP99, double ttftMean, double wallSeconds,
        Map<String, Integer> turnsPerWorker, Map<String, Long> computedPerWorker, Map<String, Integer> cache,
        int fallbacks, int rebalanced, List<String> errorSamples, String answersDigest, double loadBefore,
        double loadAfter, WorkerTime time) {

    /**
     * Where a turn's time went, as its worker measured it (means per turn, ms): waiting for a compute slot, reading
     * the record and building the prompt, prefill, decode, commit; {@code busy} is everything but the wait.
     */
    record WorkerTime(double queue, double prepare, double prefill, double decode, double commit, double busy) {
        static WorkerTime of(List<TurnSample> ok) {
            double q = 0, p = 0, f = 0, d = 0, c = 0, b = 0;
            int n = 0;
            for (TurnSample t : ok) {
                if (t.timings() == null) {
                    continue;
                }
                var x = t.timings();
                q += x.getQueueMs();
                p += x.getPrepareMs();
                f += x.getPrefillMs();
                d += x.getDecodeMs();
                c += x.getCommitMs();
                b += x.getTotalMs() - x.getQueueMs();
                n++;
            }
            return n == 0 ? new WorkerTime(0, 0, 0, 0, 0, 0)
                    : new WorkerTime(q / n, p / n, f / n, d / n, c / n, b / n);
        }

        Json toJson() {
            return Json.object().put("queue_ms", queue).put("prepare_ms", prepare).put("prefill_ms", prefill)
                    .put("decode_ms", decode).put("commit_ms", commit).put("busy_ms", busy);
        }
    }


    static ApproachReport of(Approach a, LoadRunner.Result r, List<String> workers, double loadBefore,
            double loadAfter) {
        List<TurnSample> ok = r.turns().stream().filter(TurnSample::ok).toList();
        Map<String, Integer> turnsPer = new LinkedHashMap<>();
        Map<String, Long> computedPer = new LinkedHashMap<>();
        for (String w : workers) {
            turnsPer.put(w, 0);
            computedPer.put(w, 0L);
        }
        Map<String, Integer> cache = new TreeMap<>();
        long prefill = 0;
        long prompt = 0;
        long generated = 0;
        int fallbacks = 0;
        int rebalanced = 0;
        List<Double> ttft = new ArrayList<>();
        for (TurnSample t : ok) {
            turnsPer.merge(t.worker(), 1, Integer::sum);
            computedPer.merge(t.worker(), (long) t.computedTokens(), Long::sum);
            cache.merge(t.cache(), 1, Integer::sum);
            prefill += t.computedTokens();
            prompt += t.promptTokens();
            generated += t.generated();
            fallbacks += t.fallback() ? 1 : 0;
            rebalanced += t.rebalanced() ? 1 : 0;
            ttft.add(t.ttftMs());
        }
        List<String> errors = r.turns().stream().filter(t -> !t.ok()).map(t -> t.session() + "/" + t.turn() + ": "
                + t.error()).limit(5).toList();
        return new ApproachReport(a, ok.size(), r.turns().size() - ok.size(), prefill, prompt, generated,
                percentile(ttft, 50), percentile(ttft, 99), ttft.stream().mapToDouble(Double::doubleValue).average()
                        .orElse(Double.NaN), r.wallSeconds(), turnsPer, computedPer, cache, fallbacks, rebalanced,
                errors, digest(ok), loadBefore, loadAfter, WorkerTime.of(ok));
    }

    double turnsPerSecond() {
        return turns / wallSeconds;
    }

    double maxOverMeanTurns() {
        return maxOverMean(turnsPerWorker.values().stream().mapToDouble(Integer::doubleValue).toArray());
    }

    double maxOverMeanComputed() {
        return maxOverMean(computedPerWorker.values().stream().mapToDouble(Long::doubleValue).toArray());
    }

    private static double maxOverMean(double[] v) {
        double sum = 0;
        double max = 0;
        for (double x : v) {
            sum += x;
            max = Math.max(max, x);
        }
        return sum == 0 ? Double.NaN : max / (sum / v.length);
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    /** SHA-256 of every answer by session and turn: equal across approaches when they answered the same. */
    private static String digest(List<TurnSample> ok) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<TurnSample> sorted = new ArrayList<>(ok);
            sorted.sort(Comparator.comparing(TurnSample::session).thenComparingInt(TurnSample::turn));
            for (TurnSample t : sorted) {
                md.update((t.session() + "/" + t.turn() + "/" + t.answer() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Json toJson() {
        return Json.object().put("approach", approach.label).put("description", approach.description)
                .put("turns", turns).put("errors", errors).put("prefill_tokens", prefillTokens)
                .put("prompt_tokens", promptTokens).put("generated_tokens", generatedTokens)
                .put("ttft_p50_ms", ttftP50).put("ttft_p99_ms", ttftP99).put("ttft_mean_ms", ttftMean)
                .put("wall_s", wallSeconds).put("turns_per_s", turnsPerSecond())
                .put("turns_per_worker", toJson(turnsPerWorker)).put("computed_tokens_per_worker",
                        toJson(computedPerWorker))
                .put("turns_max_over_mean", maxOverMeanTurns()).put("computed_max_over_mean", maxOverMeanComputed())
                .put("cache", toJson(cache)).put("fallbacks", fallbacks).put("rebalanced", rebalanced)
                .put("error_samples", errorSamples).put("answers_digest", answersDigest)
                .put("load_avg_before", loadBefore).put("load_avg_after", loadAfter)
                .put("worker_time_per_turn", time.toJson());
    }

    private static Json toJson(Map<String, ?> m) {
        Json j = Json.object();
        m.forEach(j::put);
        return j;
    }
}

package dev.warmroute.cli.benchoverload;

import dev.warmroute.cli.Json;
import dev.warmroute.cli.TextTable;
import dev.warmroute.cli.drill.HistoryAudit;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code bench overload} measured, and the targets against it: admitted turns' TTFT loaded vs unloaded
 * (p99 within 2x), refusals (RESOURCE_EXHAUSTED with retry-after, under 50 ms), breaker openings (none), errors other
 * than RESOURCE_EXHAUSTED, lost turns (none), OutOfMemoryError (none).
 *
 * @param setup          the cluster and the load, for the header
 * @param unloaded       every turn of the unloaded phase (one at a time)
 * @param loaded         every turn offered in the loaded phase
 * @param offeredPerS    the loaded phase's arrival rate
 * @param seconds        the loaded phase's length
 * @param notOffered     arrivals that found every session busy (not sent)
 * @param breakerOpens   breaker openings over the run (the router's ClusterStatus.breaker_opens)
 * @param turnsShed      refusals the router counted (ClusterStatus.turns_shed)
 * @param audit          every acknowledged turn checked against the stored histories
 * @param processesAlive router and workers still running at the end, of all
 * @param oomLines       lines with "OutOfMemoryError" in the cluster's logs
 * @param cpuSeconds     CPU seconds each process used during the loaded phase (workers, router, the bench client)
 */
record OverloadReport(Setup setup, List<OfferedTurn> unloaded, List<OfferedTurn> loaded, double offeredPerS,
        int seconds, long notOffered, long breakerOpens, long turnsShed, HistoryAudit.Result audit,
        String processesAlive, long oomLines, Map<String, Double> cpuSeconds) {

    /** The cluster and the offered load. */
    record Setup(String model, boolean synthetic, int workers, int capacityPerWorker, int clusterCapacity,
            double factor, double unloadedTurnMs, int sessions, int maxTokens, String machine, String started,
            double loadBefore, double loadAfter) {}

    static double percentile(List<Double> values, double p) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static List<Double> ttft(List<OfferedTurn> turns) {
        return turns.stream().filter(OfferedTurn::admitted).map(OfferedTurn::latencyMs).toList();
    }

    private static List<Double> ttft(List<OfferedTurn> turns, boolean warm) {
        return turns.stream().filter(t -> t.admitted() && "warm".equals(t.cache()) == warm)
                .map(OfferedTurn::latencyMs).toList();
    }

    List<Double> refusalLatencies() {
        return loaded.stream().filter(OfferedTurn::refusedForLoad).map(OfferedTurn::latencyMs).toList();
    }

    long admittedLoaded() {
        return loaded.stream().filter(OfferedTurn::admitted).count();
    }

    /** Refusals by status code (every non-OK outcome of the loaded phase). */
    Map<String, Long> refusedByStatus() {
        Map<String, Long> m = new TreeMap<>();
        loaded.stream().filter(t -> !t.admitted()).forEach(t -> m.merge(t.code(), 1L, Long::sum));
        return m;
    }

    /** RESOURCE_EXHAUSTED refusals whose retry-after trailer is a whole number of seconds in [1, 3600]. */
    long refusalsWithRetryAfter() {
        return loaded.stream().filter(OfferedTurn::refusedForLoad).filter(t -> t.retryAfter().matches("[1-9][0-9]{0,3}"))
                .count();
    }

    /** Errors of either phase other than RESOURCE_EXHAUSTED. */
    long otherErrors() {
        return java.util.stream.Stream.concat(unloaded.stream(), loaded.stream())
                .filter(t -> !t.admitted() && !t.refusedForLoad()).count();
    }

    List<String> otherErrorSamples() {
        return java.util.stream.Stream.concat(unloaded.stream(), loaded.stream())
                .filter(t -> !t.admitted() && !t.refusedForLoad()).map(t -> t.record().error()).distinct().limit(3)
                .toList();
    }

    String refusalSample() {
        return loaded.stream().filter(OfferedTurn::refusedForLoad).map(t -> t.record().error()).findFirst()
                .orElse("");
    }

    double p99Ratio() {
        return percentile(ttft(loaded), 99) / percentile(ttft(unloaded), 99);
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static double mean(List<OfferedTurn> turns, java.util.function.ToDoubleFunction<OfferedTurn> f) {
        return turns.stream().filter(OfferedTurn::admitted).mapToDouble(f).average().orElse(Double.NaN);
    }

    void print(PrintWriter o) {
        Setup s = setup;
        o.printf(Locale.ROOT, "Overload: %d workers x capacity %d (%d turns in flight), model %s%s, %d-token answers%n",
                s.workers(), s.capacityPerWorker(), s.clusterCapacity(), s.model(), s.synthetic() ? " (SYNTHETIC)" : "",
                s.maxTokens());
        o.printf(Locale.ROOT, "offered %.1fx capacity = %.1f turns/s (capacity %d / unloaded turn %.0f ms) for %d s, "
                + "%d sessions; %s; %s; load average %.1f -> %.1f%n", s.factor(), offeredPerS, s.clusterCapacity(),
                s.unloadedTurnMs(), seconds, s.sessions(), s.machine(), s.started(), s.loadBefore(), s.loadAfter());
        TextTable t = new TextTable("phase", "offered", "admitted", "refused", "TTFT p50", "TTFT p99", "warm p50",
                "warm p99", "not warm p50", "not warm p99", "warm share", "prefill ms", "fallback", "returned");
        for (List<OfferedTurn> phase : List.of(unloaded, loaded)) {
            if (phase.isEmpty()) {
                continue;
            }
            long admitted = phase.stream().filter(OfferedTurn::admitted).count();
            long warm = phase.stream().filter(x -> x.admitted() && "warm".equals(x.cache())).count();
            t.row(phase.getFirst().phase(), phase.size(), admitted, phase.size() - admitted,
                    ms(percentile(ttft(phase), 50)), ms(percentile(ttft(phase), 99)),
                    ms(percentile(ttft(phase, true), 50)), ms(percentile(ttft(phase, true), 99)),
                    ms(percentile(ttft(phase, false), 50)), ms(percentile(ttft(phase, false), 99)),
                    String.format(Locale.ROOT, "%.2f", admitted == 0 ? 0 : warm / (double) admitted),
                    ms(mean(phase, OfferedTurn::prefillMs)),
                    phase.stream().filter(x -> x.admitted() && x.fallback()).count(),
                    phase.stream().filter(x -> x.admitted() && x.rebalanced()).count());
        }
        t.print(o, "");
        List<Double> refusals = refusalLatencies();
        o.printf(Locale.ROOT, "refused by status: %s; with a retry-after trailer: %d of %d RESOURCE_EXHAUSTED%n",
                refusedByStatus(), refusalsWithRetryAfter(), refusals.size());
        o.printf(Locale.ROOT, "refusal latency (client, ms): p50 %s  p99 %s  max %s%n", ms(percentile(refusals, 50)),
                ms(percentile(refusals, 99)), ms(percentile(refusals, 100)));
        if (!refusalSample().isEmpty()) {
            o.println("a refusal: " + refusalSample());
        }
        o.printf("router: breaker opens %d, turns shed %d; arrivals that found every session busy: %d%n", breakerOpens,
                turnsShed, notOffered);
        o.printf("errors other than RESOURCE_EXHAUSTED: %d%s%n", otherErrors(),
                otherErrors() == 0 ? "" : " e.g. " + otherErrorSamples());
        o.printf("audit: %d turns checked, lost %d, duplicated %d, answer mismatches %d, refused but stored %d%n",
                audit.checkedTurns(), audit.lost(), audit.duplicated(), audit.answerMismatches(),
                audit.unacknowledgedCommits());
        o.printf("processes alive at the end: %s; OutOfMemoryError in the logs: %d%n", processesAlive, oomLines);
        StringBuilder cpu = new StringBuilder();
        cpuSeconds.forEach((k, v) -> cpu.append(cpu.isEmpty() ? "" : ", ").append(k).append(' ')
                .append(String.format(Locale.ROOT, "%.1f", v)));
        o.printf(Locale.ROOT, "CPU seconds during the loaded phase (%d cores x %d s = %d): %s; admitted turns' worker "
                + "queue time mean %s ms%n", Runtime.getRuntime().availableProcessors(), seconds,
                Runtime.getRuntime().availableProcessors() * seconds, cpu, ms(mean(loaded, OfferedTurn::queueMs)));
        o.println("targets:");
        check(o, "admitted TTFT p99 loaded / unloaded <= 2", String.format(Locale.ROOT, "%.2fx", p99Ratio()),
                p99Ratio() <= 2);
        double p99 = percentile(refusals, 99);
        check(o, "refusals p99 < 50 ms, RESOURCE_EXHAUSTED", ms(p99) + " ms", refusals.isEmpty() || p99 < 50);
        check(o, "no breaker opens", String.valueOf(breakerOpens), breakerOpens == 0);
        check(o, "no OutOfMemoryError, every process alive", oomLines + ", " + processesAlive,
                oomLines == 0 && allAlive());
        check(o, "nothing lost", audit.lost() + " lost, " + audit.duplicated() + " duplicated",
                audit.lost() == 0 && audit.duplicated() == 0 && audit.answerMismatches() == 0);
        o.flush();
    }

    boolean allAlive() {
        String[] p = processesAlive.split("/");
        return p.length == 2 && p[0].equals(p[1]);
    }

    private static void check(PrintWriter o, String what, String value, boolean met) {
        o.printf(Locale.ROOT, "  %-45s %12s  %s%n", what, value, met ? "met" : "NOT MET");
    }

    Json toJson() {
        Setup s = setup;
        List<Double> refusals = refusalLatencies();
        Json phases = Json.object();
        for (List<OfferedTurn> phase : List.of(unloaded, loaded)) {
            if (phase.isEmpty()) {
                continue;
            }
            long admitted = phase.stream().filter(OfferedTurn::admitted).count();
            phases.put(phase.getFirst().phase(), Json.object().put("offered", phase.size()).put("admitted", admitted)
                    .put("ttft_ms_p50", percentile(ttft(phase), 50)).put("ttft_ms_p99", percentile(ttft(phase), 99))
                    .put("warm_ttft_ms_p50", percentile(ttft(phase, true), 50))
                    .put("warm_ttft_ms_p99", percentile(ttft(phase, true), 99))
                    .put("not_warm_ttft_ms_p50", percentile(ttft(phase, false), 50))
                    .put("not_warm_ttft_ms_p99", percentile(ttft(phase, false), 99))
                    .put("warm", phase.stream().filter(x -> x.admitted() && "warm".equals(x.cache())).count())
                    .put("prefill_ms_mean", mean(phase, OfferedTurn::prefillMs))
                    .put("fallback", phase.stream().filter(x -> x.admitted() && x.fallback()).count())
                    .put("returned_to_first_choice", phase.stream().filter(x -> x.admitted() && x.rebalanced())
                            .count()));
        }
        Json refused = Json.object();
        refusedByStatus().forEach(refused::put);
        return Json.object().put("model", s.model()).put("synthetic", s.synthetic()).put("workers", s.workers())
                .put("capacity_per_worker", s.capacityPerWorker()).put("cluster_capacity", s.clusterCapacity())
                .put("factor", s.factor()).put("unloaded_turn_ms", s.unloadedTurnMs())
                .put("offered_per_s", offeredPerS).put("seconds", seconds).put("sessions", s.sessions())
                .put("max_tokens", s.maxTokens()).put("machine", s.machine()).put("started", s.started())
                .put("load_average_before", s.loadBefore()).put("load_average_after", s.loadAfter())
                .put("phases", phases).put("offered", loaded.size()).put("admitted", admittedLoaded())
                .put("refused_by_status", refused).put("refusals_with_retry_after", refusalsWithRetryAfter())
                .put("refusal_ms_p50", percentile(refusals, 50)).put("refusal_ms_p99", percentile(refusals, 99))
                .put("refusal_ms_max", percentile(refusals, 100)).put("refusal_sample", refusalSample())
                .put("not_offered_all_sessions_busy", notOffered).put("breaker_opens", breakerOpens)
                .put("turns_shed", turnsShed).put("other_errors", otherErrors())
                .put("other_error_samples", otherErrorSamples())
                .put("audited_turns", audit.checkedTurns()).put("lost", audit.lost())
                .put("duplicated", audit.duplicated()).put("answer_mismatches", audit.answerMismatches())
                .put("refused_but_stored", audit.unacknowledgedCommits()).put("processes_alive", processesAlive)
                .put("oom_lines", oomLines).put("ttft_p99_loaded_over_unloaded", p99Ratio())
                .put("cpu_seconds_loaded_phase", cpuJson())
                .put("loaded_queue_ms_mean", mean(loaded, OfferedTurn::queueMs));
    }

    private Json cpuJson() {
        Json j = Json.object();
        cpuSeconds.forEach(j::put);
        return j;
    }
}

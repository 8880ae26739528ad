package dev.warmroute.cli.drill;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a drill measured, computed from the client's turn records, the fault's time and the history audit.
 *
 * <p>Windows. <em>before</em>: turns started before the fault. <em>during</em>: turns started from the fault until
 * every session has completed one turn after it (so it holds the cold recomputes of the moved sessions).
 * <em>after</em>: the rest.
 *
 * <p>Recovery. {@code recoverySeconds}: from the fault to the start of the first one-second bucket from which on every
 * bucket's warm-hit rate is at least 95% (-1 when it never gets there). {@code turnsToRecover}: the smallest k such
 * that, counting each session's turns after the fault, the turns after its k-th have a warm-hit rate of at least 95%.
 */
public record DrillReport(
        int turns,
        int clientErrors,
        HistoryAudit.Result audit,
        Window before,
        Window during,
        Window after,
        double recoverySeconds,
        int turnsToRecover,
        int sessionsMoved,
        int fallbacks,
        int resumed,
        List<Bucket> timeline,
        Map<String, Integer> turnsPerWorker) {

    public static final double RECOVERED_HIT_RATE = 0.95;

    /** TTFT and hit rate of a window of turns. */
    /**
     * TTFT and hit rate of a window of turns. {@code returningHitRate} leaves out each session's first turn, which
     * is cold by definition (a new session), so it reads 100% when every turn that could be warm was.
     */
    public record Window(String name, int turns, int errors, double ttftP50Ms, double ttftP99Ms, double warmHitRate,
            double returningHitRate) {}

    /** One second of the drill: turns started in it, and their warm-hit rate. */
    public record Bucket(int second, int turns, int warm, double ttftP50Ms, double ttftMaxMs) {
        public double hitRate() {
            return turns == 0 ? Double.NaN : (double) warm / turns;
        }
    }

    public static DrillReport compute(List<TurnRecord> turns, double faultAtMs, HistoryAudit.Result audit) {
        List<TurnRecord> sorted = new ArrayList<>(turns);
        sorted.sort(Comparator.comparingDouble(TurnRecord::startMs));
        double duringEnd = endOfDuring(sorted, faultAtMs);
        List<TurnRecord> before = new ArrayList<>();
        List<TurnRecord> during = new ArrayList<>();
        List<TurnRecord> after = new ArrayList<>();
        for (TurnRecord t : sorted) {
            if (t.startMs() < faultAtMs) {
                before.add(t);
            } else if (t.startMs() < duringEnd) {
                during.add(t);
            } else {
                after.add(t);
            }
        }
        List<Bucket> timeline = timeline(sorted);
        Map<String, Integer> perWorker = new LinkedHashMap<>();
        sorted.stream().filter(TurnRecord::ok).map(TurnRecord::worker).sorted()
                .forEach(w -> perWorker.merge(w, 1, Integer::sum));
        return new DrillReport(
                sorted.size(),
                (int) sorted.stream().filter(t -> !t.ok()).count(),
                audit,
                window("before", before),
                window("during", during),
                window("after", after),
                recoverySeconds(timeline, faultAtMs),
                turnsToRecover(sorted, faultAtMs),
                sessionsMoved(sorted, faultAtMs),
                (int) sorted.stream().filter(TurnRecord::fallback).count(),
                (int) sorted.stream().filter(TurnRecord::resumed).count(),
                timeline,
                perWorker);
    }

    static double endOfDuring(List<TurnRecord> sorted, double faultAtMs) {
        Map<String, Double> firstAfter = new HashMap<>();
        for (TurnRecord t : sorted) {
            if (t.startMs() >= faultAtMs) {
                firstAfter.merge(t.sessionId(), t.startMs() + t.totalMs(), Math::min);
            }
        }
        return firstAfter.values().stream().mapToDouble(Double::doubleValue).max().orElse(faultAtMs);
    }

    static Window window(String name, List<TurnRecord> turns) {
        List<Double> ttft = turns.stream().filter(TurnRecord::ok).map(TurnRecord::ttftMs).filter(v -> v >= 0)
                .sorted().toList();
        long ok = turns.stream().filter(TurnRecord::ok).count();
        long warm = turns.stream().filter(TurnRecord::warm).count();
        long returning = turns.stream().filter(t -> t.ok() && t.turn() > 0).count();
        long returningWarm = turns.stream().filter(t -> t.warm() && t.turn() > 0).count();
        return new Window(name, turns.size(), (int) (turns.size() - ok), percentile(ttft, 0.50),
                percentile(ttft, 0.99), ok == 0 ? Double.NaN : (double) warm / ok,
                returning == 0 ? Double.NaN : (double) returningWarm / returning);
    }

    /** Nearest-rank percentile of sorted values; NaN when empty. */
    public static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    static List<Bucket> timeline(List<TurnRecord> sorted) {
        if (sorted.isEmpty()) {
            return List.of();
        }
        int last = (int) (sorted.get(sorted.size() - 1).startMs() / 1000);
        List<List<TurnRecord>> buckets = new ArrayList<>();
        for (int i = 0; i <= last; i++) {
            buckets.add(new ArrayList<>());
        }
        for (TurnRecord t : sorted) {
            buckets.get((int) (t.startMs() / 1000)).add(t);
        }
        List<Bucket> out = new ArrayList<>();
        for (int i = 0; i < buckets.size(); i++) {
            List<TurnRecord> b = buckets.get(i);
            List<Double> ttft = b.stream().filter(TurnRecord::ok).map(TurnRecord::ttftMs).sorted().toList();
            out.add(new Bucket(i, b.size(), (int) b.stream().filter(TurnRecord::warm).count(),
                    percentile(ttft, 0.5), ttft.isEmpty() ? Double.NaN : ttft.get(ttft.size() - 1)));
        }
        return out;
    }

    static double recoverySeconds(List<Bucket> timeline, double faultAtMs) {
        int faultSecond = (int) (faultAtMs / 1000);
        int recoveredFrom = -1;
        for (int i = timeline.size() - 1; i >= faultSecond; i--) {
            Bucket b = timeline.get(i);
            if (b.turns() > 0 && b.hitRate() < RECOVERED_HIT_RATE) {
                break;
            }
            if (b.turns() > 0) {
                recoveredFrom = i;
            }
        }
        if (recoveredFrom < 0) {
            return -1;
        }
        return Math.max(0, recoveredFrom * 1000.0 - faultAtMs) / 1000.0;
    }

    static int turnsToRecover(List<TurnRecord> sorted, double faultAtMs) {
        Map<String, Integer> ordinal = new HashMap<>();
        List<int[]> afterFault = new ArrayList<>(); // (ordinal after the fault, warm 0/1)
        for (TurnRecord t : sorted) {
            if (t.startMs() >= faultAtMs && t.ok()) {
                int k = ordinal.merge(t.sessionId(), 1, Integer::sum);
                afterFault.add(new int[] {k, t.warm() ? 1 : 0});
            }
        }
        int maxOrdinal = afterFault.stream().mapToInt(a -> a[0]).max().orElse(0);
        for (int k = 0; k < maxOrdinal; k++) {
            final int kk = k;
            long n = afterFault.stream().filter(a -> a[0] > kk).count();
            long warm = afterFault.stream().filter(a -> a[0] > kk && a[1] == 1).count();
            if (n > 0 && (double) warm / n >= RECOVERED_HIT_RATE) {
                return k;
            }
        }
        return -1;
    }

    /**
     * Sessions that moved after the fault, by the worker they moved to (their first move after it). For a join this
     * separates the moves to the new worker (the rebalancing the join should cause: about 1/(n+1) of the sessions)
     * from moves between the old workers (load-bound fallbacks while the new JVM competes for the cores).
     */
    public static Map<String, Integer> sessionsMovedTo(List<TurnRecord> turns, double faultAtMs) {
        List<TurnRecord> sorted = new ArrayList<>(turns);
        sorted.sort(Comparator.comparingDouble(TurnRecord::startMs));
        Map<String, String> lastWorker = new HashMap<>();
        Map<String, String> firstMoveTo = new LinkedHashMap<>();
        for (TurnRecord t : sorted) {
            if (!t.ok()) {
                continue;
            }
            String prev = lastWorker.put(t.sessionId(), t.worker());
            if (prev != null && !prev.equals(t.worker()) && endedAfter(t, faultAtMs)) {
                firstMoveTo.putIfAbsent(t.sessionId(), t.worker());
            }
        }
        Map<String, Integer> out = new java.util.TreeMap<>();
        firstMoveTo.values().forEach(w -> out.merge(w, 1, Integer::sum));
        return out;
    }

    /** Workers that served no turn before the fault but some after it: the joined ones. */
    public static Set<String> workersNewAfter(List<TurnRecord> turns, double faultAtMs) {
        Set<String> before = new HashSet<>();
        Set<String> after = new java.util.TreeSet<>();
        for (TurnRecord t : turns) {
            if (t.ok()) {
                (t.startMs() < faultAtMs ? before : after).add(t.worker());
            }
        }
        after.removeAll(before);
        return after;
    }

    /**
     * Whether a turn could have been moved by the fault: it ended after it. A turn in flight when its worker was
     * killed started before the fault but was retried or resumed on another worker, and that is the session's move.
     */
    private static boolean endedAfter(TurnRecord t, double faultAtMs) {
        return t.startMs() + t.totalMs() >= faultAtMs;
    }

    static int sessionsMoved(List<TurnRecord> turns, double faultAtMs) {
        return sessionsMovedTo(turns, faultAtMs).values().stream().mapToInt(Integer::intValue).sum();
    }
}

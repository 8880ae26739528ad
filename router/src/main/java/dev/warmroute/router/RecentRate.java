package dev.warmroute.router;

import java.util.function.LongSupplier;

/**
 * A hit rate over the last minute: 60 one-second buckets of (hits, total), so the admin API can say "warm-hit rate
 * over the last 60 s" without keeping every turn. Old buckets are cleared lazily when their second comes round again.
 */
public final class RecentRate {

    private static final int BUCKETS = 60;

    private final LongSupplier clockMs;
    private final long[] second = new long[BUCKETS];
    private final long[] hits = new long[BUCKETS];
    private final long[] total = new long[BUCKETS];

    public RecentRate() {
        this(System::currentTimeMillis);
    }

    /** @param clockMs the time source (tests drive it) */
    public RecentRate(LongSupplier clockMs) {
        this.clockMs = clockMs;
        java.util.Arrays.fill(second, -1);
    }

    public synchronized void record(boolean hit) {
        long now = clockMs.getAsLong() / 1000;
        int i = (int) Math.floorMod(now, (long) BUCKETS);
        if (second[i] != now) {
            second[i] = now;
            hits[i] = 0;
            total[i] = 0;
        }
        total[i]++;
        if (hit) {
            hits[i]++;
        }
    }

    /** hits / total over the last 60 s; 0 when there were none. */
    public synchronized double rate() {
        long now = clockMs.getAsLong() / 1000;
        long h = 0;
        long t = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (second[i] > now - BUCKETS && second[i] <= now) {
                h += hits[i];
                t += total[i];
            }
        }
        return t == 0 ? 0 : (double) h / t;
    }
}

package dev.warmroute.router;

import java.util.function.LongSupplier;

/**
 * At most {@code rate} rebalancing moves per second from this router (a token bucket holding at most one second's
 * worth). When a worker joins, every session it now wins would otherwise move on its very next turn, and each move is
 * a cold turn on the newcomer; the bucket spreads those recomputations out. A move that finds the bucket empty is put
 * off: the session stays where it is warm and tries again on a later turn.
 */
final class RebalanceThrottle {

    private final double rate;
    private final double capacity;
    private final LongSupplier nanos;
    private double tokens;
    private long last;

    RebalanceThrottle(double ratePerSecond) {
        this(ratePerSecond, System::nanoTime);
    }

    RebalanceThrottle(double ratePerSecond, LongSupplier nanos) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("rebalance-rate: must be positive, got " + ratePerSecond);
        }
        this.rate = ratePerSecond;
        this.capacity = Math.max(1, ratePerSecond);
        this.nanos = nanos;
        this.tokens = capacity;
        this.last = nanos.getAsLong();
    }

    /** Takes one move's permit if there is one. */
    synchronized boolean tryAcquire() {
        long now = nanos.getAsLong();
        tokens = Math.min(capacity, tokens + (now - last) / 1e9 * rate);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    double rate() {
        return rate;
    }
}

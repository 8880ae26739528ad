package dev.warmroute.router;

/**
 * How long this router's turns take lately (an exponentially weighted mean of completed turns, arrival to end), for
 * the retry-after hint of a refused turn: a turn slot frees after about one turn time, so a retry sooner finds the
 * cluster as full, and one much later waits for nothing.
 */
final class TurnTime {

    /** Weight of the newest turn: the mean follows the last few dozen turns. */
    private static final double ALPHA = 0.05;
    /** The hint stays small: a client asked to wait minutes gives up instead. */
    static final long MAX_RETRY_AFTER_S = 30;

    private double mean = -1;

    synchronized void record(double seconds) {
        mean = mean < 0 ? seconds : mean + ALPHA * (seconds - mean);
    }

    /** The mean rounded up to whole seconds in [1, 30]; {@code fallback} before any turn was timed. */
    synchronized long retryAfterSeconds(long fallback) {
        if (mean < 0) {
            return fallback;
        }
        return Math.max(1, Math.min(MAX_RETRY_AFTER_S, (long) Math.ceil(mean - 1e-9)));
    }
}

package dev.warmroute.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waiting in tests for a condition that another thread or process makes true (a member joined, a router sees a
 * worker): polls the named condition until it holds and fails with its name when it does not in time. The time is a
 * bound on a broken system, never what the test measures; a condition that throws counts as not yet true (a server
 * still starting refuses calls).
 */
public final class Await {

    /** Generous: on a loaded 2-core machine a JVM start or a Hazelcast migration can take many seconds. */
    public static final Duration DEFAULT = Duration.ofSeconds(90);

    private Await() {}

    public static void until(BooleanSupplier condition, String what) throws InterruptedException {
        until(condition, DEFAULT, what);
    }

    public static void until(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError e = new AssertionError("timed out after " + within.toSeconds() + " s waiting until "
                        + what);
                if (last != null) {
                    e.initCause(last);
                }
                throw e;
            }
            Thread.sleep(20);
        }
    }
}

package dev.warmroute.worker;

import dev.warmroute.cluster.WorkerRegistration;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts turns between acceptance and their last event, so a graceful stop can wait for them, and per router (the
 * {@code x-warmroute-router} header; {@code ""} for clients calling the worker directly), so that the worker can
 * report its load with its registration and every router bounds it by its capacity, counting the other routers'
 * turns too ({@code WorkerRegistry.reportLoad}).
 */
final class ActiveTurns {

    /** Router ids kept apart; turns of any further router are counted under {@link #OTHER}. */
    static final int MAX_ROUTERS = 64;
    static final String OTHER = "?";

    private int count;
    private final Map<String, Integer> byRouter = new HashMap<>();

    synchronized void begin() {
        begin("");
    }

    synchronized void end() {
        end("");
    }

    /** A turn from {@code router} (a validated key: {@link #routerKey}) began. */
    synchronized void begin(String router) {
        count++;
        byRouter.merge(router, 1, Integer::sum);
    }

    synchronized void end(String router) {
        count--;
        byRouter.computeIfPresent(router, (k, v) -> v <= 1 ? null : v - 1);
        if (count == 0) {
            notifyAll();
        }
    }

    synchronized int count() {
        return count;
    }

    /** Turns running per router now. */
    synchronized Map<String, Integer> byRouter() {
        return new TreeMap<>(byRouter);
    }

    /**
     * The key a router's header is counted under: the header if it is a plausible router id (printable ASCII, at most
     * {@link WorkerRegistration#MAX_ROUTER_ID} characters), {@code ""} when absent, {@link #OTHER} otherwise or when
     * {@link #MAX_ROUTERS} ids are already counted.
     */
    synchronized String routerKey(String header) {
        if (header == null || header.isEmpty()) {
            return "";
        }
        if (header.length() > WorkerRegistration.MAX_ROUTER_ID || !header.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return OTHER;
        }
        return byRouter.containsKey(header) || byRouter.size() < MAX_ROUTERS ? header : OTHER;
    }

    /** Waits until no turn is active or {@code within} passed; true when none is left. */
    synchronized boolean awaitIdle(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (count > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }
}

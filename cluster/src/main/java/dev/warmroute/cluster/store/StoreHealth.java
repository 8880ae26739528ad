package dev.warmroute.cluster.store;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this member's store answers, as its calls and a probe see it: what the worker's health service
 * ({@code warmroute.store}), its metrics and its stats report. Changes are logged once, not per call.
 */
public final class StoreHealth {

    private static final Logger log = LoggerFactory.getLogger(StoreHealth.class);

    private final String store;
    private volatile boolean up = true;
    private volatile String lastError = "";
    private volatile long downSinceMs;
    private final AtomicLong transientFailures = new AtomicLong();
    private final AtomicLong deterministicFailures = new AtomicLong();
    private final CopyOnWriteArrayList<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();

    public StoreHealth(String store) {
        this.store = store;
    }

    /** A call or the probe reached the store. */
    public void succeeded() {
        if (!up) {
            up = true;
            log.info("store.up store=\"{}\" down_ms={}", store, System.currentTimeMillis() - downSinceMs);
            listeners.forEach(l -> l.accept(true));
        }
    }

    /** A call or the probe could not reach the store. */
    public void unavailable(String error) {
        transientFailures.incrementAndGet();
        lastError = error;
        if (up) {
            up = false;
            downSinceMs = System.currentTimeMillis();
            log.warn("store.down store=\"{}\" error=\"{}\": turns fail with UNAVAILABLE until it answers again", store,
                    error);
            listeners.forEach(l -> l.accept(false));
        }
    }

    /** The store answered with an error a retry will not fix (it is up). */
    public void failedDeterministically(String error) {
        deterministicFailures.incrementAndGet();
        lastError = error;
    }

    /** Called with true/false on every change (health service, metrics). */
    public void onChange(Consumer<Boolean> listener) {
        listeners.add(listener);
    }

    public boolean up() {
        return up;
    }

    public String store() {
        return store;
    }

    public String lastError() {
        return lastError;
    }

    public long transientFailures() {
        return transientFailures.get();
    }

    public long deterministicFailures() {
        return deterministicFailures.get();
    }
}

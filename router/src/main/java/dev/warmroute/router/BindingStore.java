package dev.warmroute.router;

import com.hazelcast.aggregation.Aggregators;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.warmroute.cluster.ClusterMaps;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code bindings} map (session id → {@link Binding}) with a deadline on every call.
 *
 * <p>Reads go through the router's near cache (a warm turn's binding read costs no network round trip); members
 * invalidate it at once when another router moves the session. Writes are compare-and-set only
 * ({@code putIfAbsent}, {@code replace(key, old, new)}), so routers racing to move a session agree on one winner and
 * the epoch rises by exactly one per move.
 *
 * <p>Hazelcast has no asynchronous compare-and-set, and a blocked Hazelcast call does not fail by itself (it retries
 * until its invocation timeout), so blocking calls run on virtual threads and are abandoned at the deadline.
 */
public final class BindingStore implements AutoCloseable {

    /** The cluster could not answer in time (or the router is not connected). */
    public static final class StoreUnavailableException extends Exception {
        StoreUnavailableException(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    private final HazelcastInstance hz;
    private volatile IMap<String, Binding> map;
    private final Duration timeout;
    private final java.util.function.Supplier<String> routerId;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();

    public BindingStore(HazelcastInstance hz, Duration timeout, java.util.function.Supplier<String> routerId) {
        this.hz = hz;
        this.timeout = timeout;
        this.routerId = routerId;
    }

    /** The map proxy, made on first use: a client cannot make proxies before it has connected. */
    private IMap<String, Binding> map() {
        IMap<String, Binding> m = map;
        if (m == null) {
            m = hz.getMap(ClusterMaps.BINDINGS);
            map = m;
        }
        return m;
    }

    /** The session's binding, or null when it has none. */
    public Binding get(String sessionId) throws StoreUnavailableException {
        try {
            return map().getAsync(sessionId).toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted reading the binding of " + sessionId, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw unavailable("reading the binding of " + sessionId, e);
        }
    }

    /**
     * The session's binding as its partition owner has it, bypassing the near cache (which learns of another
     * router's move asynchronously). One remote read: used only before moving a session.
     */
    public Binding getFresh(String sessionId) throws StoreUnavailableException {
        return call(() -> {
            com.hazelcast.core.EntryView<String, Binding> view = map().getEntryView(sessionId);
            return view == null ? null : view.getValue();
        }, "reading the binding of " + sessionId + " from its owner");
    }

    /** {@link #bind(String, Binding, String, Binding.Kind, long)} as a FALLBACK binding without a horizon. */
    public Binding bind(String sessionId, Binding expected, String workerId) throws StoreUnavailableException {
        return bind(sessionId, expected, workerId, Binding.Kind.FALLBACK, 0);
    }

    /**
     * Binds the session to {@code workerId} if its binding is still {@code expected} (null: it has none).
     *
     * @param kind      why (a PREFERRED binding may later be rebalanced to a worker that joins)
     * @param horizonMs the newest worker registration the caller knew of (see {@link Binding#horizonMs()})
     * @return the binding in force afterwards: ours when the write won, the other router's when it lost
     */
    public Binding bind(String sessionId, Binding expected, String workerId, Binding.Kind kind, long horizonMs)
            throws StoreUnavailableException {
        if (expected == null) {
            Binding fresh = Binding.first(workerId, routerId.get(), kind, horizonMs);
            Binding previous = call(() -> map().putIfAbsent(sessionId, fresh), "binding " + sessionId);
            return previous == null ? fresh : previous;
        }
        if (expected.workerId().equals(workerId)) {
            return expected;
        }
        Binding moved = expected.movedTo(workerId, routerId.get(), kind, horizonMs);
        boolean won = call(() -> map().replace(sessionId, expected, moved), "moving " + sessionId);
        if (won) {
            return moved;
        }
        Binding now = get(sessionId);
        if (now == null) {
            // Deleted meanwhile (the session was deleted): start over.
            return bind(sessionId, null, workerId, kind, horizonMs);
        }
        return now;
    }

    /** Removes the session's binding (the session was deleted). */
    public void remove(String sessionId) throws StoreUnavailableException {
        try {
            map().deleteAsync(sessionId).toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted removing the binding of " + sessionId, e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw unavailable("removing the binding of " + sessionId, e);
        }
    }

    /** Sessions bound to {@code workerId}: counted where the data lives, one number comes back. */
    public long countBoundTo(String workerId) throws StoreUnavailableException {
        return call(() -> map().aggregate(Aggregators.count(), Predicates.equal("workerId", workerId)),
                "counting the sessions bound to " + workerId);
    }

    /** All bindings in the cluster. */
    public long size() throws StoreUnavailableException {
        return call(() -> (long) map().size(), "counting bindings");
    }

    /** Runs a blocking Hazelcast call with this store's deadline. */
    <T> T call(Callable<T> body, String what) throws StoreUnavailableException {
        Future<T> f = calls.submit(body);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            f.cancel(true);
            throw unavailable(what, e);
        }
    }

    private StoreUnavailableException unavailable(String what, Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        String why = cause instanceof TimeoutException ? "no answer within " + timeout.toMillis() + " ms"
                : cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        return new StoreUnavailableException("cluster store: " + what + " failed (" + why + ")", cause);
    }

    @Override
    public void close() {
        calls.shutdownNow();
    }
}

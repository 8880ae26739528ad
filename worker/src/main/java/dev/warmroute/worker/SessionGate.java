package dev.warmroute.worker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Per-session ordering: at most one turn of a session runs on this worker at a time. A second turn waits in a short
 * FIFO line, without holding a thread (the caller continues asynchronously when its permit arrives), for at most
 * {@code maxWait}; a line longer than {@code maxWaiters}, or a wait that runs out, is ABORTED (chat.proto: "one is
 * running and the wait for it timed out"), and the client retries.
 *
 * <p>Why wait at all instead of aborting at once: a client that sends its next message the moment the previous
 * answer's last token arrives races the commit of that turn; a short wait turns that race into ordinary ordering.
 */
public final class SessionGate {

    /** Held while a turn of the session runs; {@link #close()} lets the next one in. Idempotent. */
    public interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    private final int maxWaiters;
    private final Duration maxWait;
    private final ScheduledExecutorService timer;
    private final Map<String, Lane> lanes = new HashMap<>();

    public SessionGate(int maxWaiters, Duration maxWait, ScheduledExecutorService timer) {
        this.maxWaiters = maxWaiters;
        this.maxWait = maxWait;
        this.timer = timer;
    }

    private static final class Lane {
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    }

    private static final class Waiter {
        final CompletableFuture<Permit> future = new CompletableFuture<>();
        ScheduledFuture<?> timeout;
    }

    /**
     * A permit for the session: completed at once when no turn of it runs, later when the running one ends, or
     * exceptionally with ABORTED. Cancelling the returned future (the client went away) leaves the line.
     */
    public CompletableFuture<Permit> acquire(String sessionId) {
        Waiter waiter = new Waiter();
        synchronized (lanes) {
            Lane lane = lanes.get(sessionId);
            if (lane == null) {
                lanes.put(sessionId, new Lane());
                return CompletableFuture.completedFuture(new SessionPermit(sessionId));
            }
            if (lane.waiters.size() >= maxWaiters) {
                return CompletableFuture.failedFuture(Errors.aborted("session '" + sessionId
                        + "': a turn is running and " + lane.waiters.size() + " more are waiting (limit "
                        + maxWaiters + "); retry after the running turn completes"));
            }
            lane.waiters.add(waiter);
            waiter.timeout = timer.schedule(() -> expire(sessionId, waiter), maxWait.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        waiter.future.whenComplete((p, e) -> {
            if (waiter.future.isCancelled()) {
                leave(sessionId, waiter);
            }
        });
        return waiter.future;
    }

    /** Turns running or waiting, for stats and tests. */
    public int sessionsBusy() {
        synchronized (lanes) {
            return lanes.size();
        }
    }

    private void expire(String sessionId, Waiter waiter) {
        if (leave(sessionId, waiter)) {
            waiter.future.completeExceptionally(Errors.aborted("session '" + sessionId + "': waited "
                    + maxWait.toMillis() + " ms for the previous turn of this session to finish; retry"));
        }
    }

    private boolean leave(String sessionId, Waiter waiter) {
        synchronized (lanes) {
            Lane lane = lanes.get(sessionId);
            return lane != null && lane.waiters.remove(waiter);
        }
    }

    private void release(String sessionId) {
        while (true) {
            Waiter next;
            synchronized (lanes) {
                Lane lane = lanes.get(sessionId);
                if (lane == null) {
                    return;
                }
                next = lane.waiters.poll();
                if (next == null) {
                    lanes.remove(sessionId);
                    return;
                }
            }
            if (next.timeout != null) {
                next.timeout.cancel(false);
            }
            // The lane stays busy: the permit passes straight to the next waiter. If that waiter gave up in the
            // meantime (cancelled), the permit moves on to the one after it.
            if (next.future.complete(new SessionPermit(sessionId))) {
                return;
            }
        }
    }

    private final class SessionPermit implements Permit {
        private final String sessionId;
        private boolean closed;

        SessionPermit(String sessionId) {
            this.sessionId = sessionId;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                release(sessionId);
            }
        }
    }
}

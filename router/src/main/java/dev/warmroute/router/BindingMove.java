package dev.warmroute.router;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One turn's binding: the one the turn was placed with ({@link SessionRouter#bindingMove}), and the move to the worker
 * that accepted the turn ({@link #moveTo}). The move is a compare-and-set in the cluster store; worker callbacks run on
 * the transport's threads, which must not block, so it runs on the router's blocking executor, and what must wait for
 * it (the client's TurnComplete: its next turn, through any router, must find the session where it now lives) is
 * queued with {@link #whenDone}.
 *
 * <p>Moves and queued actions run in the order they were given, one after another: a turn that fails over twice moves
 * the binding from where the previous move left it, never in two compare-and-sets at once.
 *
 * <p>Thread-safe; never calls out while holding its own lock, so callers may hold theirs.
 */
public final class BindingMove {

    private static final Logger log = LoggerFactory.getLogger(BindingMove.class);

    private final SessionRouter router;
    private final String sessionId;
    private final Executor blocking;
    /** The binding in force as far as this turn knows: read before placing, then each move's result. */
    private Binding binding;
    /** The binding epoch reported in RoutingInfo: the binding's, or the one the moves given so far will write. */
    private long epoch;
    /** The worker the binding names once the moves given so far are done (null: none). */
    private String target;
    private boolean placed;
    private CompletableFuture<Void> done = CompletableFuture.completedFuture(null);

    BindingMove(SessionRouter router, String sessionId, Binding binding, Executor blocking) {
        this.router = router;
        this.sessionId = sessionId;
        this.blocking = blocking;
        this.binding = binding;
        this.epoch = binding == null ? 0 : binding.epoch();
        this.target = binding == null ? null : binding.workerId();
    }

    public String sessionId() {
        return sessionId;
    }

    public synchronized Binding binding() {
        return binding;
    }

    public synchronized long epoch() {
        return epoch;
    }

    /** True the first time only: the turn's first placement (the one that checks the owner's copy). */
    synchronized boolean firstPlacement() {
        boolean first = !placed;
        placed = true;
        return first;
    }

    /** The owner's copy differed from the near cache's: place with it. */
    synchronized void refreshed(Binding owners) {
        binding = owners;
        epoch = owners == null ? 0 : owners.epoch();
        target = owners == null ? null : owners.workerId();
    }

    /**
     * The worker accepted the turn: binds the session to it unless the binding names it already (or the mode keeps
     * no bindings). Returns at once; the compare-and-set runs on the blocking executor after any move given before.
     *
     * @return true when a move was started
     */
    public boolean moveTo(String workerId, PlacementDecision decision) {
        if (!router.mode().usesBindings()) {
            return false;
        }
        Binding.Kind kind = decision.kind();
        long horizon = decision.horizonMs();
        synchronized (this) {
            if (workerId.equals(target)) {
                return false;
            }
            target = workerId;
            epoch++;
            done = done.thenRunAsync(() -> {
                Binding expected = binding();
                Binding now = router.bind(sessionId, expected, workerId, kind, horizon);
                synchronized (this) {
                    if (now != null) {
                        binding = now;
                        epoch = now.epoch();
                        target = now.workerId();
                    }
                }
            }, blocking).exceptionally(e -> {
                log.error("binding.move-failed session={} worker={}", sessionId, workerId, e);
                return null;
            });
        }
        return true;
    }

    /**
     * Runs {@code action} once the moves given so far are done: at once, on this thread, when there are none;
     * otherwise on the thread that finished the last of them. Actions run in the order they were given.
     */
    public void whenDone(Runnable action) {
        CompletableFuture<Void> before;
        synchronized (this) {
            before = done;
            if (!before.isDone()) {
                done = before.thenRun(action).exceptionally(e -> {
                    log.error("turn.after-bind-failed session={}", sessionId, e);
                    return null;
                });
                return;
            }
        }
        action.run();
    }
}

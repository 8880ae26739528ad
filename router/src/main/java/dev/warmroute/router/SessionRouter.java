package dev.warmroute.router;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Places a session's turn on a worker and keeps the session's binding: reads the binding, asks the
 * {@link PlacementPolicy} of the router's mode once with the directory's current view, admits the turn on the chosen
 * worker ({@link WorkerHandle#tryAcquire}: slot, bulkhead, breaker), and after the worker accepted the turn, moves
 * the binding with a compare-and-set ({@link BindingMove}). Modes without bindings
 * ({@link PlacementMode#usesBindings()}) neither read nor write any.
 *
 * <p>When the cluster store cannot answer in time, placement goes on from the hash alone (the worker it picks
 * recomputes from history if the session lived elsewhere) and the binding is left as it was; this is logged and
 * counted, never silent.
 *
 * <p>Rebalancing moves (a session moving to a worker that joined and is now its hash's first choice) are limited by a
 * {@link RebalanceThrottle}; a move without a token is put off (the session stays, warm) and counted.
 */
public final class SessionRouter {

    private static final Logger log = LoggerFactory.getLogger(SessionRouter.class);

    /**
     * A placement.
     *
     * @param decision  the policy's decision and its reasons
     * @param admission the chosen worker's {@link Permit} (give it back with exactly one outcome) or its
     *                  {@link Admission.Refusal} (the caller skips the worker); null when no worker can serve
     *                  ({@code decision.failure()} says why)
     */
    public record Placed(PlacementDecision decision, Admission admission) {}

    private final WorkerDirectory directory;
    private final PlacementPolicy placement;
    private final BindingStore bindings;
    /** Null when rebalancing is off (or the mode has no bindings). */
    private final RebalanceThrottle throttle;
    /** Runs binding moves: they block on the cluster store, and turns ask for them from transport threads. */
    private final Executor blocking;
    final LongAdder storeFailures = new LongAdder();
    final LongAdder rebalancesDeferred = new LongAdder();

    /** @param throttle limits rebalancing moves; null turns rebalancing off */
    public SessionRouter(WorkerDirectory directory, PlacementPolicy placement, BindingStore bindings,
            RebalanceThrottle throttle, Executor blocking) {
        this.directory = directory;
        this.placement = placement;
        this.bindings = bindings;
        this.throttle = placement.mode().usesBindings() ? throttle : null;
        this.blocking = blocking;
    }

    public PlacementPolicy placement() {
        return placement;
    }

    public PlacementMode mode() {
        return placement.mode();
    }

    /** True when sessions move to a newly joined worker that is now their hash's first choice. */
    public boolean rebalancing() {
        return throttle != null;
    }

    /** Most rebalancing moves per second (0 when off). */
    public double rebalanceRate() {
        return throttle == null ? 0 : throttle.rate();
    }

    public long rebalancesDeferred() {
        return rebalancesDeferred.sum();
    }

    /**
     * True when every worker that can take a turn (serving, breaker closed) is at its capacity, and there is one:
     * no placement can succeed whatever the session's binding, so a turn is refused before the binding is read (the
     * cheapest refusal: no cluster access).
     */
    public boolean everyWorkerFull() {
        boolean any = false;
        for (WorkerView v : directory.views()) {
            if (v.serving() && !v.breakerOpen()) {
                if (v.hasCapacity()) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    /** The session's binding (near cache); null when it has none or the store did not answer (logged and counted). */
    public Binding binding(String sessionId) {
        try {
            return bindings.get(sessionId);
        } catch (BindingStore.StoreUnavailableException e) {
            storeFailures.increment();
            log.warn("binding.read-failed session={} placing by hash alone: {}", sessionId, e.getMessage());
            return null;
        }
    }

    /** A turn's binding, read now (none in a mode without bindings), for {@link #place(BindingMove, Map)}. */
    public BindingMove bindingMove(String sessionId) {
        return new BindingMove(this, sessionId, mode().usesBindings() ? binding(sessionId) : null, blocking);
    }

    /**
     * Places an attempt of a turn. The near cache answers the warm path. On the turn's first placement, a decision
     * that would move the session is checked against the owner's copy of the binding first: another router may have
     * moved the session a moment ago, and the near cache hears of that asynchronously. Only when that copy differs is
     * the decision made again (its input changed). That read blocks, which is fine on the handler's thread where the
     * first placement runs; later placements (failover attempts, on the transport's threads) do no I/O.
     *
     * @param excluded workers that already failed this turn, with the failure
     */
    public Placed place(BindingMove turn, Map<String, String> excluded) {
        Binding b = turn.binding();
        PlacementDecision first = null;
        if (turn.firstPlacement() && b != null) {
            first = placement.decide(turn.sessionId(), b, directory.views(), excluded, rebalancing());
            if (first.chosen() != null && !first.chosen().equals(b.workerId())) {
                Binding owners = ownersCopy(turn.sessionId(), b);
                if (!Objects.equals(owners, b)) {
                    turn.refreshed(owners);
                    b = owners;
                    first = null;
                }
            }
        }
        return admit(turn.sessionId(), b, excluded, first);
    }

    /** Places a call that is not a turn (the creation of a session) with the binding given; no I/O. */
    public Placed place(String sessionId, Binding binding, Map<String, String> excluded) {
        return admit(sessionId, binding, excluded, null);
    }

    /**
     * Admits the decision's worker, or decides again when another turn took the worker's last slot under the load
     * bound since the view was taken: two turns placed at once cannot both take it.
     *
     * @param decided the first round's decision when already made, else null
     */
    private Placed admit(String sessionId, Binding binding, Map<String, String> excluded, PlacementDecision decided) {
        boolean rebalance = rebalancing();
        boolean moveGranted = false;
        PlacementDecision d = decided;
        for (int round = 0; round < 8; round++) {
            if (round > 0 || d == null) {
                d = placement.decide(sessionId, binding, directory.views(), excluded, rebalance);
            }
            if (d.rebalanced() && !moveGranted) {
                if (throttle.tryAcquire()) {
                    moveGranted = true;
                } else {
                    rebalancesDeferred.increment();
                    log.debug("rebalance.deferred session={} from={} to={} rate_per_s={}", sessionId,
                            d.rebalancedFrom(), d.chosen(), throttle.rate());
                    rebalance = false;
                    d = d.stay();
                }
            }
            if (d.chosen() == null) {
                return new Placed(d, null);
            }
            WorkerHandle h = directory.get(d.chosen());
            if (h == null) {
                continue; // left between the snapshot and now
            }
            // Under the load bound only if still under it now; over it only when placement found nothing better.
            Admission a = h.tryAcquire(d.overLoadBound() ? 0 : d.loadBound());
            // A race lost for the last slot under the load bound or the capacity: the next view shows it.
            if (!(a instanceof Admission.Refusal r && (r.why() == Admission.Why.AT_LOAD_BOUND
                    || r.why() == Admission.Why.AT_CAPACITY))) {
                return new Placed(d, a);
            }
        }
        // Placement kept losing races for the last slot: take the last choice anyway rather than fail the turn.
        WorkerHandle h = d.chosen() == null ? null : directory.get(d.chosen());
        if (h != null) {
            return new Placed(d, h.tryAcquire(0));
        }
        return new Placed(PlacementDecision.none(d.preferred(), d.skipped(), d.loadBound(),
                "no worker is serving: the workers left while the turn was being placed"), null);
    }

    /** The binding as its partition owner has it; {@code cached} when the store did not answer (logged, counted). */
    private Binding ownersCopy(String sessionId, Binding cached) {
        try {
            return bindings.getFresh(sessionId);
        } catch (BindingStore.StoreUnavailableException e) {
            storeFailures.increment();
            log.warn("binding.read-failed session={}: {}", sessionId, e.getMessage());
            return cached;
        }
    }

    /**
     * Records that the session now lives on {@code workerId} (compare-and-set against {@code expected}). Returns the
     * binding in force afterwards (another router's if it moved the session first), or {@code expected} when the
     * store did not answer.
     */
    public Binding bind(String sessionId, Binding expected, String workerId, Binding.Kind kind, long horizonMs) {
        if (!placement.mode().usesBindings() || expected != null && expected.workerId().equals(workerId)) {
            return expected;
        }
        Binding known = expected;
        // Twice at most: a second compare-and-set when the first lost to a binding whose worker cannot serve (our
        // read was stale: the store did not answer it in time), or when the store did not answer the first.
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Binding now = bindings.bind(sessionId, known, workerId, kind, horizonMs);
                if (now.workerId().equals(workerId)) {
                    if (known != null) {
                        log.info("binding.moved session={} from={} to={} epoch={} kind={}", sessionId,
                                known.workerId(), workerId, now.epoch(), now.kind());
                    }
                    return now;
                }
                if (usable(now.workerId())) {
                    return now; // another router moved it to a worker that serves: adopt its choice
                }
                known = now;
            } catch (BindingStore.StoreUnavailableException e) {
                storeFailures.increment();
                log.warn("binding.write-failed session={} worker={} attempt={}: {}", sessionId, workerId,
                        attempt + 1, e.getMessage());
            }
        }
        return known;
    }

    /** True when the worker is registered, serving and its breaker lets calls through. */
    private boolean usable(String workerId) {
        WorkerHandle h = directory.get(workerId);
        return h != null && directory.view(h).serving() && !directory.view(h).breakerOpen();
    }

    /** Removes the binding of a deleted session; a failure is logged (the binding expires with the session). */
    public void unbind(String sessionId) {
        if (!placement.mode().usesBindings()) {
            return;
        }
        try {
            bindings.remove(sessionId);
        } catch (BindingStore.StoreUnavailableException e) {
            storeFailures.increment();
            log.warn("binding.remove-failed session={}: {}", sessionId, e.getMessage());
        }
    }

    public BindingStore bindings() {
        return bindings;
    }

    public WorkerDirectory directory() {
        return directory;
    }
}

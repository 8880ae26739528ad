package dev.warmroute.router;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Places a session's turn on a worker: reads the binding, asks the {@link PlacementPolicy} of the router's mode with
 * the directory's current view, takes an in-flight slot on the chosen worker, and after the worker accepted the turn,
 * records the binding with a compare-and-set. Modes without bindings ({@link PlacementMode#usesBindings()}) neither
 * read nor write any.
 *
 * <p>When the cluster store cannot answer in time, placement goes on from the hash alone (the worker it picks
 * recomputes from history if the session lived elsewhere) and the binding is left as it was; this is logged and
 * counted, never silent.
 *
 * <p>Rebalancing moves (a session moving to a worker that joined and is now its hash's first choice) are limited by a
 * {@link RebalanceThrottle}; a move without a permit is put off (the session stays, warm) and counted.
 */
public final class SessionRouter {

    private static final Logger log = LoggerFactory.getLogger(SessionRouter.class);

    /**
     * A placement with a reserved in-flight slot on {@code worker} (release it with {@link WorkerHandle#release}).
     *
     * @param worker   the chosen worker, or null when none can serve ({@code decision.failure()} says why)
     * @param decision placement's reasoning
     */
    public record Plan(WorkerHandle worker, Placement.Decision decision) {}

    private final WorkerDirectory directory;
    private final PlacementPolicy placement;
    private final BindingStore bindings;
    /** Null when rebalancing is off (or the mode has no bindings). */
    private final RebalanceThrottle throttle;
    final LongAdder storeFailures = new LongAdder();
    final LongAdder rebalancesDeferred = new LongAdder();

    /** @param throttle limits rebalancing moves; null turns rebalancing off */
    public SessionRouter(WorkerDirectory directory, PlacementPolicy placement, BindingStore bindings,
            RebalanceThrottle throttle) {
        this.directory = directory;
        this.placement = placement;
        this.bindings = bindings;
        this.throttle = placement.mode().usesBindings() ? throttle : null;
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

    /** The session's binding; null when it has none or the store did not answer (logged and counted). */
    public Binding binding(String sessionId) {
        try {
            return bindings.get(sessionId);
        } catch (BindingStore.StoreUnavailableException e) {
            storeFailures.increment();
            log.warn("binding.read-failed session={} placing by hash alone: {}", sessionId, e.getMessage());
            return null;
        }
    }

    /**
     * The binding to place the session's next turn with. The near cache answers the warm path; when the binding it
     * gives would be moved (its worker gone, failing or at its bound), the owner's copy is read first: another
     * router may have moved the session a moment ago, and the near cache hears of that asynchronously.
     */
    public Binding current(String sessionId) {
        if (!placement.mode().usesBindings()) {
            return null;
        }
        Binding b = binding(sessionId);
        if (b == null) {
            return null;
        }
        Placement.Decision d = placement.decide(sessionId, b, directory.views(), Map.of(), rebalancing());
        if (b.workerId().equals(d.chosen()) || d.chosen() == null) {
            return b;
        }
        try {
            return bindings.getFresh(sessionId);
        } catch (BindingStore.StoreUnavailableException e) {
            storeFailures.increment();
            log.warn("binding.read-failed session={}: {}", sessionId, e.getMessage());
            return b;
        }
    }

    /**
     * Picks a worker and reserves a slot on it. Two turns placed at once cannot both take a worker's last slot
     * under the bound: a lost race re-runs placement with a fresh view.
     */
    public Plan plan(String sessionId, Binding binding, Map<String, String> excluded) {
        boolean rebalance = rebalancing();
        boolean permit = false;
        Placement.Decision d = null;
        for (int round = 0; round < 8; round++) {
            List<Placement.WorkerView> views = directory.views();
            d = placement.decide(sessionId, binding, views, excluded, rebalance);
            if (d.rebalanced() && !permit) {
                if (throttle.tryAcquire()) {
                    permit = true;
                } else {
                    rebalancesDeferred.increment();
                    log.debug("rebalance.deferred session={} from={} to={} rate_per_s={}", sessionId,
                            d.rebalancedFrom(), d.chosen(), throttle.rate());
                    rebalance = false;
                    d = placement.decide(sessionId, binding, views, excluded, false);
                }
            }
            if (d.chosen() == null) {
                return new Plan(null, d);
            }
            WorkerHandle h = directory.get(d.chosen());
            if (h == null) {
                continue; // left between the snapshot and now
            }
            // Under the bound only if still under it now (another turn may have taken the last slot since the
            // snapshot: then decide again); over it only when placement found nothing better.
            if (h.tryReserve(d.overBound() ? 0 : d.bound())) {
                return new Plan(h, d);
            }
        }
        // Placement kept losing races for the last slot: take the last choice anyway rather than fail the turn.
        WorkerHandle h = d.chosen() == null ? null : directory.get(d.chosen());
        if (h != null && h.tryReserve(0)) {
            return new Plan(h, d);
        }
        return new Plan(null, new Placement.Decision(null, d.preferred(), d.skipped(), d.bound(),
                "no worker is serving: the workers left while the turn was being placed", false));
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

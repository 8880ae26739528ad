package dev.warmroute.router;

import java.util.List;
import java.util.Map;

/**
 * Decides where a turn goes, from a snapshot of the workers taken for that decision; no I/O, so every rule is unit
 * tested. One implementation per {@link PlacementMode}. {@link HybridPlacement} and {@link HashPlacement} are pure
 * functions of their arguments, so every router replica decides the same way from the same inputs;
 * {@link RoundRobinPlacement} is not: its answer depends on the turns this router placed before (its counter), which
 * is what round robin means.
 */
public interface PlacementPolicy {

    PlacementMode mode();

    /**
     * @param binding   the session's binding, or null (none, or the mode keeps no bindings)
     * @param workers   every registered worker
     * @param excluded  workers that already failed this turn, with the failure (never tried again for it)
     * @param rebalance whether the session may move to a newly joined worker that is now its hash's first choice
     */
    PlacementDecision decide(String sessionId, Binding binding, List<WorkerView> workers,
            Map<String, String> excluded, boolean rebalance);

    /** c of the load bound in force, 0 when this mode has none. */
    double loadFactor();
}

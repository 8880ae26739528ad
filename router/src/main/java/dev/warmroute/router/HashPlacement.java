package dev.warmroute.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Plain session hashing ({@link PlacementMode#HASH}): a turn goes to the rendezvous hash's first choice among the
 * registered workers, full stop. No binding, no load bound, no second candidate: when that worker is not serving or
 * fails, the turn fails (UNAVAILABLE naming the worker). It is the seed's sticky-routing baseline, whose weaknesses
 * (hot spots under skew, errors during failures, sessions moving back and forth with membership) the benchmark shows.
 */
public final class HashPlacement implements PlacementPolicy {

    @Override
    public PlacementMode mode() {
        return PlacementMode.HASH;
    }

    @Override
    public double loadFactor() {
        return 0;
    }

    @Override
    public PlacementDecision decide(String sessionId, Binding binding, List<WorkerView> workers,
            Map<String, String> excluded, boolean rebalance) {
        List<String> ids = new ArrayList<>(workers.size());
        for (WorkerView w : workers) {
            ids.add(w.id());
        }
        String top = RendezvousHash.top(sessionId, ids);
        if (top == null) {
            return PlacementDecision.none(null, List.of(), 0, "no worker is serving: 0 registered");
        }
        WorkerView w = workers.get(ids.indexOf(top));
        PlacementDecision.Skip skip = w.unfit(excluded);
        if (skip != null) {
            return PlacementDecision.none(top, List.of(skip), 0, "the session's worker " + top + " cannot serve ("
                    + skip.reason() + ") and placement 'hash' has no fallback");
        }
        return PlacementDecision.chose(top, top, List.of(), 0, false, Binding.Kind.PREFERRED, 0);
    }
}

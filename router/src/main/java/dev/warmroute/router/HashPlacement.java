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
    public Placement.Decision decide(String sessionId, Binding binding, List<Placement.WorkerView> workers,
            Map<String, String> excluded, boolean rebalance) {
        List<String> ids = new ArrayList<>(workers.size());
        for (Placement.WorkerView w : workers) {
            ids.add(w.id());
        }
        String top = RendezvousHash.top(sessionId, ids);
        if (top == null) {
            return new Placement.Decision(null, null, List.of(), 0, "no worker is serving: 0 registered", false);
        }
        Placement.WorkerView w = workers.get(ids.indexOf(top));
        Placement.Skip skip = Placement.unfit(w, excluded);
        if (skip != null) {
            return new Placement.Decision(null, top, List.of(skip), 0, "the session's worker " + top + " cannot "
                    + "serve (" + skip.reason() + ") and placement 'hash' has no fallback", false);
        }
        return new Placement.Decision(top, top, List.of(), 0, null, false, false, "", Binding.Kind.PREFERRED, 0);
    }
}

package dev.warmroute.router;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Round robin ({@link PlacementMode#ROUND_ROBIN}): each turn to the next worker in id order, whatever the session,
 * skipping workers that are not serving, broken, draining or already failed this turn. No binding, no load bound. It
 * is the seed's stateless baseline: with {@code --stateless} workers every turn recomputes its whole prompt, and any
 * worker can take any turn. The counter is this router's own (several routers interleave, which changes nothing), so
 * unlike the other policies its answer depends on what it placed before.
 */
public final class RoundRobinPlacement implements PlacementPolicy {

    private final AtomicLong next = new AtomicLong();

    @Override
    public PlacementMode mode() {
        return PlacementMode.ROUND_ROBIN;
    }

    @Override
    public double loadFactor() {
        return 0;
    }

    @Override
    public PlacementDecision decide(String sessionId, Binding binding, List<WorkerView> workers,
            Map<String, String> excluded, boolean rebalance) {
        if (workers.isEmpty()) {
            return PlacementDecision.none(null, List.of(), 0, "no worker is serving: 0 registered");
        }
        List<WorkerView> ordered = new ArrayList<>(workers);
        ordered.sort(Comparator.comparing(WorkerView::id));
        int n = ordered.size();
        int start = (int) Math.floorMod(next.getAndIncrement(), (long) n);
        String preferred = ordered.get(start).id();
        List<PlacementDecision.Skip> skipped = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            WorkerView w = ordered.get((start + i) % n);
            PlacementDecision.Skip skip = w.unfit(excluded);
            if (skip == null && w.draining()) {
                skip = new PlacementDecision.Skip(w.id(), PlacementDecision.SkipKind.DRAINING, "draining");
            }
            if (skip == null) {
                return PlacementDecision.chose(w.id(), preferred, skipped, 0, false, Binding.Kind.FALLBACK, 0);
            }
            skipped.add(skip);
        }
        return PlacementDecision.none(preferred, skipped, 0, PlacementDecision.noneMessage(n, skipped));
    }
}

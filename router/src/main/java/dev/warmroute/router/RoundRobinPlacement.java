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
 * worker can take any turn. The counter is this router's own (several routers interleave, which changes nothing).
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
    public Placement.Decision decide(String sessionId, Binding binding, List<Placement.WorkerView> workers,
            Map<String, String> excluded, boolean rebalance) {
        if (workers.isEmpty()) {
            return new Placement.Decision(null, null, List.of(), 0, "no worker is serving: 0 registered", false);
        }
        List<Placement.WorkerView> ordered = new ArrayList<>(workers);
        ordered.sort(Comparator.comparing(Placement.WorkerView::id));
        int n = ordered.size();
        int start = (int) Math.floorMod(next.getAndIncrement(), (long) n);
        String preferred = ordered.get(start).id();
        List<Placement.Skip> skipped = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Placement.WorkerView w = ordered.get((start + i) % n);
            Placement.Skip skip = Placement.unfit(w, excluded);
            if (skip == null && w.draining()) {
                skip = new Placement.Skip(w.id(), Placement.SkipKind.DRAINING, "draining");
            }
            if (skip == null) {
                return new Placement.Decision(w.id(), preferred, List.copyOf(skipped), 0, null, false, false, "",
                        Binding.Kind.FALLBACK, 0);
            }
            skipped.add(skip);
        }
        return new Placement.Decision(null, preferred, List.copyOf(skipped), 0,
                Placement.noneMessage(n, skipped), false);
    }
}

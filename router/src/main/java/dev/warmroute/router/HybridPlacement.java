package dev.warmroute.router;

import dev.warmroute.router.PlacementDecision.Skip;
import dev.warmroute.router.PlacementDecision.SkipKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The hybrid placement ({@link PlacementMode#HYBRID}, warmroute's own): picks the worker for a session's turn from a
 * snapshot of the workers. A pure function of its arguments (no I/O, no state), so every rule is unit tested and
 * every router replica decides the same way from the same inputs.
 *
 * <p>The rule (DESIGN.md, "A turn, step by step", step 1): the session's bound worker if it is live, serving, its
 * breaker is not open and it is under its load bound; otherwise the best rendezvous-hash candidate that passes the
 * same checks and is not draining. The load bound is "consistent hashing with bounded loads" (Mirrokni, Thorup,
 * Zadimoghaddam): with {@code n} workers taking load and {@code m} turns in flight including the one being placed, no
 * worker may hold more than {@code ceil(c × m / n)}. A worker at its load bound is skipped, so a hot session mix spills
 * to each session's next HRW choice instead of queueing on one worker, and no worker runs above c × mean.
 *
 * <p>Draining workers keep the sessions bound to them (admin.proto: bound sessions move only if the worker leaves);
 * they only get no new placements.
 *
 * <p>Rebalancing on join: a session whose binding is {@link Binding.Kind#PREFERRED} (it went to its hash's first choice)
 * moves to its new first choice when that worker registered after the binding was written (its registration time is
 * above the binding's horizon) and can take the turn now (serving, breaker closed, under the load bound). That is
 * consistent hashing's minimal disruption: when a 4th worker joins, the sessions it now wins (about 1/4) move to it,
 * each paying one cold turn, and no other session moves. A {@link Binding.Kind#FALLBACK} binding (made by failover,
 * the load bound or a drain) never moves back: a worker that comes back does not pull its old sessions away from the
 * workers where they are warm now.
 *
 * <p>Capacity: a worker is never offered more turns than it advertised it can hold ({@link WorkerView#capacity}, all
 * routers' turns together); at capacity it is skipped even where an over-the-load-bound worker would be taken, and
 * when every worker is at capacity no worker is chosen ({@link PlacementDecision#full()}: the turn is refused with
 * RESOURCE_EXHAUSTED). A session that left its preferred worker because it was full is {@link Binding.Kind#SPILLED}:
 * on a later turn it goes back to its hash's first choice as soon as that has room (under the load bound and its
 * capacity), the way a rebalancing move does (the same rate limit, {@code RoutingInfo.rebalanced}), so a burst does
 * not leave its sessions scattered and their caches cold for good.
 *
 * <p>Trunk reservation ({@code spillReserve}, the telephone networks' answer to overflow traffic crowding out direct
 * traffic): while a session's first choice is full, another worker takes it only if that leaves more than
 * {@code spillReserve} of its capacity free. At saturation every spill is a cold turn (a full recompute) in a slot that
 * one of that worker's own sessions would use warm a moment later; refusing it keeps the cluster's turns warm and its
 * throughput up. Under the load bound's moderate imbalance (the first choice over the load bound but not full) spills
 * are not reserved against: that is the load bound's balancing.
 */
public final class HybridPlacement implements PlacementPolicy {

    private final double loadFactor;
    private final int spillReserve;

    /** @param loadFactor c ≥ 1: a worker may run at most c × the mean load */
    public HybridPlacement(double loadFactor) {
        this(loadFactor, 0);
    }

    /**
     * @param loadFactor   c ≥ 1: a worker may run at most c × the mean load
     * @param spillReserve slots of its capacity a worker keeps free for its own sessions: it takes a session whose
     *                     first choice is full only while more than this many are free (trunk reservation)
     */
    public HybridPlacement(double loadFactor, int spillReserve) {
        if (!(loadFactor >= 1.0) || loadFactor > 100) {
            throw new IllegalArgumentException("load bound factor: must be in [1, 100], got " + loadFactor);
        }
        if (spillReserve < 0 || spillReserve > 10_000) {
            throw new IllegalArgumentException("spill-reserve: must be in [0, 10000] slots, got " + spillReserve);
        }
        this.loadFactor = loadFactor;
        this.spillReserve = spillReserve;
    }

    @Override
    public double loadFactor() {
        return loadFactor;
    }

    @Override
    public PlacementMode mode() {
        return PlacementMode.HYBRID;
    }

    /** ceil(c × (inFlight + 1) / workers): the most turns one worker may run after placing one more. */
    public int loadBound(int totalInFlight, int workers) {
        if (workers <= 0) {
            return 0;
        }
        return (int) Math.ceil(loadFactor * (totalInFlight + 1) / workers - 1e-9);
    }

    /**
     * Decides where a turn of {@code sessionId} goes, without rebalancing.
     *
     * @param boundWorker the worker of the session's binding, or null when it has none
     * @param workers     every registered worker
     * @param excluded    workers that already failed this turn, with the failure (never tried again for it)
     */
    public PlacementDecision decide(String sessionId, String boundWorker, List<WorkerView> workers,
            Map<String, String> excluded) {
        return decide(sessionId, boundWorker == null ? null : new Binding(boundWorker, 1, 0, ""), workers, excluded,
                false);
    }

    @Override
    public PlacementDecision decide(String sessionId, Binding binding, List<WorkerView> workers,
            Map<String, String> excluded, boolean rebalance) {
        String boundWorker = binding == null ? null : binding.workerId();
        Map<String, WorkerView> byId = new HashMap<>();
        int accepting = 0;
        int total = 0;
        long horizon = 0;
        List<String> ids = new ArrayList<>(workers.size());
        List<String> placeable = new ArrayList<>(workers.size());
        for (WorkerView w : workers) {
            byId.put(w.id(), w);
            ids.add(w.id());
            horizon = Math.max(horizon, w.registeredAtMs());
            if (!w.draining()) {
                placeable.add(w.id());
            }
            if (w.serving() && !w.breakerOpen()) {
                accepting++;
                total += w.inFlight();
            }
        }
        int loadBound = loadBound(total, accepting);
        if (rebalance && binding != null && binding.kind() != Binding.Kind.FALLBACK) {
            String top = RendezvousHash.top(sessionId, placeable);
            WorkerView t = top == null ? null : byId.get(top);
            // PREFERRED: only to a worker that joined after the binding; SPILLED: back to the first choice it left
            // under load, whenever that has room again.
            boolean newcomer = binding.kind() == Binding.Kind.SPILLED || t != null
                    && t.registeredAtMs() > binding.horizonMs();
            if (t != null && !top.equals(boundWorker) && newcomer
                    && !excluded.containsKey(top) && t.serving() && !t.breakerOpen()
                    && t.inFlight() + 1 <= loadBound && t.hasCapacity()) {
                // The session stays where it is if the router puts the move off (RebalanceThrottle): that decision
                // comes with this one, so the caller never asks twice.
                PlacementDecision stay = decide(sessionId, binding, workers, excluded, false);
                return new PlacementDecision(top, top, List.of(), loadBound, null, false, boundWorker,
                        Binding.Kind.PREFERRED, horizon, stay);
            }
        }
        String preferred = boundWorker != null ? boundWorker
                : RendezvousHash.top(sessionId, placeable.isEmpty() ? ids : placeable);
        if (preferred == null) {
            return PlacementDecision.none(null, List.of(), loadBound, "no worker is serving: 0 registered");
        }

        List<String> order = new ArrayList<>(ids.size() + 1);
        if (boundWorker != null) {
            order.add(boundWorker);
            List<String> rest = new ArrayList<>(ids);
            rest.remove(boundWorker);
            order.addAll(RendezvousHash.rank(sessionId, rest));
        } else {
            order.addAll(RendezvousHash.rank(sessionId, ids));
        }

        List<Skip> skipped = new ArrayList<>();
        WorkerView leastLoadedOverBound = null;
        // The first choice is full (at its capacity, or it refused this turn as full), not merely over the load bound.
        WorkerView first = byId.get(preferred);
        String firstFailure = excluded.get(preferred);
        boolean preferredFull = first != null && (!first.hasCapacity()
                || firstFailure != null && firstFailure.startsWith(FailurePolicy.FULL));
        for (String id : order) {
            WorkerView w = byId.get(id);
            if (w == null) {
                skipped.add(new Skip(id, SkipKind.GONE, "bound worker " + id + " has left the cluster"));
                continue;
            }
            Skip unfit = w.unfit(excluded);
            if (unfit != null) {
                skipped.add(unfit);
                continue;
            }
            if (w.draining() && !id.equals(boundWorker)) {
                skipped.add(new Skip(id, SkipKind.DRAINING, "draining"));
                continue;
            }
            if (!w.hasCapacity()) {
                // Its advertised capacity is a hard bound, unlike the load bound: nothing more, not even late.
                skipped.add(new Skip(id, SkipKind.AT_CAPACITY, String.format(Locale.ROOT,
                        "at capacity (%d turns in flight, capacity %d)", w.load(), w.capacity())));
                continue;
            }
            if (preferredFull && !id.equals(preferred) && w.freeSlots() <= spillReserve) {
                // Trunk reservation: with the first choice full the cluster is near saturation, and a spilled turn
                // is a cold one (a full recompute) that would take one of the last slots from this worker's own,
                // warm sessions; it is refused instead, and the slot serves a warm turn a moment later.
                skipped.add(new Skip(id, SkipKind.AT_CAPACITY, String.format(Locale.ROOT,
                        "keeps its last %d of capacity %d for its own sessions (%d turns in flight)", spillReserve,
                        w.capacity(), w.load())));
                continue;
            }
            if (w.inFlight() + 1 > loadBound) {
                skipped.add(new Skip(id, SkipKind.OVERLOADED, String.format(Locale.ROOT,
                        "over load bound (in-flight %d, bound %d = ceil(%.2f x mean %.2f))", w.inFlight(), loadBound,
                        loadFactor, (total + 1) / (double) accepting)));
                if (leastLoadedOverBound == null || w.inFlight() < leastLoadedOverBound.inFlight()) {
                    leastLoadedOverBound = w;
                }
                continue;
            }
            return PlacementDecision.chose(id, preferred, skipped, loadBound, false,
                    kindOf(binding, id, preferred, skipped), horizon);
        }
        if (leastLoadedOverBound != null) {
            // Every worker that could serve is at its load bound (only possible when others failed or are at
            // capacity): serving late beats failing while it is under its capacity.
            return PlacementDecision.chose(leastLoadedOverBound.id(), preferred, skipped, loadBound, true,
                    kindOf(binding, leastLoadedOverBound.id(), preferred, skipped), horizon);
        }
        return PlacementDecision.none(preferred, skipped, loadBound,
                PlacementDecision.noneMessage(workers.size(), skipped));
    }

    /**
     * The kind of binding a turn on {@code chosen} leaves: the bound worker keeps its binding as it is; a new session
     * on its hash's first choice is PREFERRED; a session that leaves its preferred worker because that one was full
     * (over the load bound, at capacity, refused the turn as full) is SPILLED, and goes back when it has room; any
     * other move (failover, drain) is FALLBACK.
     */
    private static Binding.Kind kindOf(Binding binding, String chosen, String preferred, List<Skip> skipped) {
        if (binding != null && chosen.equals(binding.workerId())) {
            return binding.kind();
        }
        if (binding == null && chosen.equals(preferred)) {
            return Binding.Kind.PREFERRED;
        }
        for (Skip s : skipped) {
            if (s.workerId().equals(preferred)) {
                return s.kind().load() ? Binding.Kind.SPILLED : Binding.Kind.FALLBACK;
            }
        }
        return Binding.Kind.FALLBACK;
    }
}

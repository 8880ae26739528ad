package dev.warmroute.router;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The hybrid placement ({@link PlacementMode#HYBRID}, warmroute's own): picks the worker for a session's turn from a
 * snapshot of the workers; pure logic, no I/O, so every rule is unit tested and every router replica decides the
 * same way from the same inputs.
 *
 * <p>The rule (DESIGN.md, "A turn, step by step", step 1): the session's bound worker if it is live, serving, its
 * breaker is not open and it is under its load bound; otherwise the best rendezvous-hash candidate that passes the
 * same checks and is not draining. The load bound is "consistent hashing with bounded loads" (Mirrokni, Thorup,
 * Zadimoghaddam): with {@code n} workers taking load and {@code m} turns in flight including the one being placed, no
 * worker may hold more than {@code ceil(c × m / n)}. A worker at its bound is skipped, so a hot session mix spills
 * to each session's next HRW choice instead of queueing on one worker, and no worker runs above c × mean.
 *
 * <p>Draining workers keep the sessions bound to them (admin.proto: bound sessions move only if the worker leaves);
 * they only get no new placements.
 *
 * <p>Rebalancing on join: a session whose binding is {@link Binding.Kind#PREFERRED} (it went to its hash's first choice)
 * moves to its new first choice when that worker registered after the binding was written (its registration time is
 * above the binding's horizon) and can take the turn now (serving, breaker closed, under the bound). That is
 * consistent hashing's minimal disruption: when a 4th worker joins, the sessions it now wins (about 1/4) move to it,
 * each paying one cold turn, and no other session moves. A {@link Binding.Kind#FALLBACK} binding (made by failover,
 * the load bound or a drain) never moves back: a worker that comes back does not pull its old sessions away from the
 * workers where they are warm now.
 */
public final class Placement implements PlacementPolicy {

    /** Why a worker was passed over. */
    public enum SkipKind { GONE, FAILED, NOT_SERVING, BREAKER_OPEN, DRAINING, OVERLOADED }

    /**
     * One worker as placement sees it.
     *
     * @param registeredAtMs when the worker registered ({@code WorkerRegistration.registeredAtMs}, its own clock)
     */
    public record WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight,
            long registeredAtMs) {
        public WorkerView {
            Objects.requireNonNull(id, "id");
        }

        public WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight) {
            this(id, serving, draining, breakerOpen, inFlight, 0);
        }
    }

    /** A worker passed over, and why (the text goes into RoutingInfo.fallback_reason and the logs). */
    public record Skip(String workerId, SkipKind kind, String reason) {}

    /**
     * The outcome.
     *
     * @param chosen    the worker to use, or null when none can serve
     * @param preferred the worker the binding (or, without one, the hash) pointed to first; null with no workers
     * @param skipped   workers passed over before {@code chosen}, in preference order
     * @param bound     the load bound in force (turns in flight per worker)
     * @param failure   when {@code chosen} is null: a message a person can act on
     * @param overBound true when {@code chosen} is at or above the bound and was taken because no worker under it
     *                  could serve
     * @param rebalanced true when the session moves to its new hash first choice, a worker that joined after the
     *                   session was bound ({@code chosen} = {@code preferred} = that worker)
     * @param rebalancedFrom with {@code rebalanced}: the worker the session leaves
     * @param kind      the kind of binding a move to {@code chosen} writes
     * @param horizonMs the newest registration time among the workers seen (the binding's horizon)
     */
    public record Decision(String chosen, String preferred, List<Skip> skipped, int bound, String failure,
            boolean overBound, boolean rebalanced, String rebalancedFrom, Binding.Kind kind, long horizonMs) {

        /** A decision that moves no session by rebalancing (a failure, or a mode without bindings). */
        public Decision(String chosen, String preferred, List<Skip> skipped, int bound, String failure,
                boolean overBound) {
            this(chosen, preferred, skipped, bound, failure, overBound, false, "", Binding.Kind.FALLBACK, 0);
        }

        public boolean fallback() {
            return chosen != null && !chosen.equals(preferred);
        }

        /** Why the preferred worker was not used ("" when it was). */
        public String preferredSkipReason() {
            for (Skip s : skipped) {
                if (s.workerId().equals(preferred)) {
                    return s.reason();
                }
            }
            return "";
        }

        public SkipKind preferredSkipKind() {
            for (Skip s : skipped) {
                if (s.workerId().equals(preferred)) {
                    return s.kind();
                }
            }
            return null;
        }
    }

    private final double loadFactor;

    /** @param loadFactor c ≥ 1: a worker may run at most c × the mean load */
    public Placement(double loadFactor) {
        if (!(loadFactor >= 1.0) || loadFactor > 100) {
            throw new IllegalArgumentException("load bound factor: must be in [1, 100], got " + loadFactor);
        }
        this.loadFactor = loadFactor;
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
    public int bound(int totalInFlight, int workers) {
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
    public Decision decide(String sessionId, String boundWorker, List<WorkerView> workers,
            Map<String, String> excluded) {
        return decide(sessionId, boundWorker == null ? null : new Binding(boundWorker, 1, 0, ""), workers, excluded,
                false);
    }

    @Override
    public Decision decide(String sessionId, Binding binding, List<WorkerView> workers, Map<String, String> excluded,
            boolean rebalance) {
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
        int bound = bound(total, accepting);
        if (rebalance && binding != null && binding.kind() == Binding.Kind.PREFERRED) {
            String top = RendezvousHash.top(sessionId, placeable);
            WorkerView t = top == null ? null : byId.get(top);
            if (t != null && !top.equals(boundWorker) && t.registeredAtMs() > binding.horizonMs()
                    && !excluded.containsKey(top) && t.serving() && !t.breakerOpen() && t.inFlight() + 1 <= bound) {
                return new Decision(top, top, List.of(), bound, null, false, true, boundWorker,
                        Binding.Kind.PREFERRED, horizon);
            }
        }
        String preferred = boundWorker != null ? boundWorker
                : RendezvousHash.top(sessionId, placeable.isEmpty() ? ids : placeable);
        if (preferred == null) {
            return new Decision(null, null, List.of(), bound, "no worker is serving: 0 registered", false);
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
        for (String id : order) {
            WorkerView w = byId.get(id);
            if (w == null) {
                skipped.add(new Skip(id, SkipKind.GONE, "bound worker " + id + " has left the cluster"));
                continue;
            }
            Skip unfit = unfit(w, excluded);
            if (unfit != null) {
                skipped.add(unfit);
                continue;
            }
            if (w.draining() && !id.equals(boundWorker)) {
                skipped.add(new Skip(id, SkipKind.DRAINING, "draining"));
                continue;
            }
            if (w.inFlight() + 1 > bound) {
                skipped.add(new Skip(id, SkipKind.OVERLOADED, String.format(Locale.ROOT,
                        "over load bound (in-flight %d, bound %d = ceil(%.2f x mean %.2f))", w.inFlight(), bound,
                        loadFactor, (total + 1) / (double) accepting)));
                if (leastLoadedOverBound == null || w.inFlight() < leastLoadedOverBound.inFlight()) {
                    leastLoadedOverBound = w;
                }
                continue;
            }
            return new Decision(id, preferred, List.copyOf(skipped), bound, null, false, false, "",
                    kindOf(binding, id, preferred), horizon);
        }
        if (leastLoadedOverBound != null) {
            // Every worker that could serve is at its bound (only possible when others failed this turn): serving
            // late beats failing; the worker's own bounded queue still refuses what it cannot hold.
            return new Decision(leastLoadedOverBound.id(), preferred, List.copyOf(skipped), bound, null, true, false,
                    "", kindOf(binding, leastLoadedOverBound.id(), preferred), horizon);
        }
        return new Decision(null, preferred, List.copyOf(skipped), bound, noneMessage(workers.size(), skipped),
                false);
    }

    /**
     * The kind of binding a turn on {@code chosen} leaves: the bound worker keeps its binding as it is; a new session
     * on its hash's first choice is PREFERRED; anything else (a move away from the bound worker, a spill) is FALLBACK.
     */
    private static Binding.Kind kindOf(Binding binding, String chosen, String preferred) {
        if (binding != null) {
            return chosen.equals(binding.workerId()) ? binding.kind() : Binding.Kind.FALLBACK;
        }
        return chosen.equals(preferred) ? Binding.Kind.PREFERRED : Binding.Kind.FALLBACK;
    }

    /**
     * Why {@code w} cannot take this turn whatever the policy (it failed this turn, is not serving, or its breaker is
     * open), or null. Draining and load are each policy's own call.
     */
    static Skip unfit(WorkerView w, Map<String, String> excluded) {
        String failed = excluded.get(w.id());
        if (failed != null) {
            return new Skip(w.id(), SkipKind.FAILED, failed);
        }
        if (!w.serving()) {
            return new Skip(w.id(), SkipKind.NOT_SERVING, "not serving (gRPC health)");
        }
        if (w.breakerOpen()) {
            return new Skip(w.id(), SkipKind.BREAKER_OPEN, "breaker open");
        }
        return null;
    }

    static String noneMessage(int registered, List<Skip> skipped) {
        StringBuilder sb = new StringBuilder();
        long failed = skipped.stream().filter(s -> s.kind() == SkipKind.FAILED).count();
        if (failed > 0 && failed == registered) {
            sb.append("all ").append(registered).append(registered == 1 ? " worker" : " workers").append(" failed: ");
        } else {
            sb.append("no worker is serving: ").append(registered).append(" registered: ");
        }
        for (int i = 0; i < skipped.size(); i++) {
            Skip s = skipped.get(i);
            if (i > 0) {
                sb.append("; ");
            }
            sb.append(s.workerId()).append(": ").append(s.reason());
        }
        return sb.toString();
    }
}

package dev.warmroute.router;

import java.util.List;

/**
 * What a {@link PlacementPolicy} decided for one turn (or one failover attempt of it), and why.
 *
 * @param chosen         the worker to use, or null when none can serve
 * @param preferred      the worker the binding (or, without one, the policy) pointed to first; null with no workers
 * @param skipped        workers passed over before {@code chosen}, in preference order
 * @param loadBound      the load bound in force: the most turns in flight one worker may hold (0 when the policy
 *                       has none)
 * @param failure        when {@code chosen} is null: a message a person can act on
 * @param overLoadBound  true when {@code chosen} is at or above the load bound and was taken because no worker under
 *                       it could serve
 * @param rebalancedFrom the worker the session leaves when this decision is a rebalancing move to its new hash first
 *                       choice, a worker that joined after the session was bound ({@code chosen} = {@code preferred}
 *                       = that worker); "" otherwise
 * @param kind           the kind of binding a move to {@code chosen} writes
 * @param horizonMs      the newest registration time among the workers seen (the binding's horizon)
 * @param stay           with a rebalancing move: the decision had the session stayed, taken when the move is put off
 *                       ({@link RebalanceThrottle}); null otherwise
 */
public record PlacementDecision(String chosen, String preferred, List<Skip> skipped, int loadBound, String failure,
        boolean overLoadBound, String rebalancedFrom, Binding.Kind kind, long horizonMs, PlacementDecision stay) {

    /** Why a worker was passed over. */
    public enum SkipKind {
        GONE, FAILED, NOT_SERVING, BREAKER_OPEN, DRAINING, OVERLOADED,
        /** At its capacity (all routers' turns together): it gets nothing more, not even over the load bound. */
        AT_CAPACITY,
        /** It refused this turn as full (RESOURCE_EXHAUSTED) or was full when admitted. */
        FULL;

        /** True when the worker was passed over for load, not for a fault: a session leaving it is spilled. */
        boolean load() {
            return this == OVERLOADED || this == AT_CAPACITY || this == FULL;
        }
    }

    /** A worker passed over, and why (the text goes into RoutingInfo.fallback_reason and the logs). */
    public record Skip(String workerId, SkipKind kind, String reason) {}

    /** A decision that chose {@code chosen} without a rebalancing move. */
    static PlacementDecision chose(String chosen, String preferred, List<Skip> skipped, int loadBound,
            boolean overLoadBound, Binding.Kind kind, long horizonMs) {
        return new PlacementDecision(chosen, preferred, List.copyOf(skipped), loadBound, null, overLoadBound, "", kind,
                horizonMs, null);
    }

    /** A decision that found no worker; {@code failure} says why. */
    static PlacementDecision none(String preferred, List<Skip> skipped, int loadBound, String failure) {
        return new PlacementDecision(null, preferred, List.copyOf(skipped), loadBound, failure, false, "",
                Binding.Kind.FALLBACK, 0, null);
    }

    /** True when this decision moves the session to a newly joined worker that is now its hash's first choice. */
    public boolean rebalanced() {
        return !rebalancedFrom.isEmpty();
    }

    /**
     * True when no worker was chosen because those that could serve were full (at capacity, or refused the turn as
     * full): the turn is refused with RESOURCE_EXHAUSTED and retry-after, not UNAVAILABLE.
     */
    public boolean full() {
        return chosen == null && skipped.stream().anyMatch(s -> s.kind() == SkipKind.AT_CAPACITY
                || s.kind() == SkipKind.FULL);
    }

    public boolean fallback() {
        return chosen != null && !chosen.equals(preferred);
    }

    /** Why the preferred worker was not used ("" when it was). */
    public String preferredSkipReason() {
        Skip s = preferredSkip();
        return s == null ? "" : s.reason();
    }

    /** Why the preferred worker was not used, as a kind; null when it was. */
    public SkipKind preferredSkipKind() {
        Skip s = preferredSkip();
        return s == null ? null : s.kind();
    }

    private Skip preferredSkip() {
        for (Skip s : skipped) {
            if (s.workerId().equals(preferred)) {
                return s;
            }
        }
        return null;
    }

    /** "no worker is serving: 3 registered: w1: …; w2: …", or "all 3 workers failed: …" when each failed this turn. */
    static String noneMessage(int registered, List<Skip> skipped) {
        StringBuilder sb = new StringBuilder();
        long failed = skipped.stream().filter(s -> s.kind() == SkipKind.FAILED || s.kind() == SkipKind.FULL).count();
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

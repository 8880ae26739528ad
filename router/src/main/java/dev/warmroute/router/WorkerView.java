package dev.warmroute.router;

import java.util.Map;
import java.util.Objects;

/**
 * One worker as a {@link PlacementPolicy} sees it: a snapshot taken by {@link WorkerDirectory#views()} for one
 * decision.
 *
 * @param inFlight       turns this router runs on the worker now (exact: what the load bound counts)
 * @param registeredAtMs when the worker registered ({@code WorkerRegistration.registeredAtMs}, its own clock)
 * @param capacity       the most turns it may hold, all routers' together ({@link WorkerHandle#admissionLimit}: its
 *                       advertised capacity, plus the part of its queue routers may fill); 0 = no bound
 * @param othersInFlight the other routers' turns on it as the worker last reported them (up to a report interval
 *                       old): counted against its capacity, not in the load bound, where one stale turn would turn a
 *                       session away from an idle worker
 */
public record WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight,
        long registeredAtMs, int capacity, int othersInFlight) {

    public WorkerView {
        Objects.requireNonNull(id, "id");
    }

    public WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight,
            long registeredAtMs, int capacity) {
        this(id, serving, draining, breakerOpen, inFlight, registeredAtMs, capacity, 0);
    }

    public WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight,
            long registeredAtMs) {
        this(id, serving, draining, breakerOpen, inFlight, registeredAtMs, 0, 0);
    }

    public WorkerView(String id, boolean serving, boolean draining, boolean breakerOpen, int inFlight) {
        this(id, serving, draining, breakerOpen, inFlight, 0, 0, 0);
    }

    /** Every router's turns on the worker: this one's exactly, the others' as reported. */
    int load() {
        return inFlight + othersInFlight;
    }

    /** True when one more turn stays within the worker's capacity. */
    boolean hasCapacity() {
        return freeSlots() >= 1;
    }

    /** Slots of its capacity still free ({@code MAX_VALUE} without a bound). */
    int freeSlots() {
        return capacity <= 0 ? Integer.MAX_VALUE : capacity - load();
    }

    /**
     * Why this worker cannot take the turn whatever the policy (it failed this turn, is not serving, or its breaker is
     * open), or null. Draining and load are each policy's own call.
     *
     * @param excluded workers that already failed this turn, with the failure
     */
    PlacementDecision.Skip unfit(Map<String, String> excluded) {
        String failed = excluded.get(id);
        if (failed != null) {
            return new PlacementDecision.Skip(id, failed.startsWith(FailurePolicy.FULL)
                    ? PlacementDecision.SkipKind.FULL : PlacementDecision.SkipKind.FAILED, failed);
        }
        if (!serving) {
            return new PlacementDecision.Skip(id, PlacementDecision.SkipKind.NOT_SERVING, "not serving (gRPC health)");
        }
        if (breakerOpen) {
            return new PlacementDecision.Skip(id, PlacementDecision.SkipKind.BREAKER_OPEN, "breaker open");
        }
        return null;
    }
}

package dev.warmroute.router;

import java.util.Map;
import java.util.Objects;

/**
 * One worker as a {@link PlacementPolicy} sees it: a snapshot taken by {@link WorkerDirectory#views()} for one
 * decision.
 *
 * @param inFlight       turns this router runs on the worker now
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

    /**
     * Why this worker cannot take the turn whatever the policy (it failed this turn, is not serving, or its breaker is
     * open), or null. Draining and load are each policy's own call.
     *
     * @param excluded workers that already failed this turn, with the failure
     */
    PlacementDecision.Skip unfit(Map<String, String> excluded) {
        String failed = excluded.get(id);
        if (failed != null) {
            return new PlacementDecision.Skip(id, PlacementDecision.SkipKind.FAILED, failed);
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

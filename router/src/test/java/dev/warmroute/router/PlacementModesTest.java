package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The baseline placements (hash, round robin), the mode flag and the rebalancing rate limit. */
class PlacementModesTest {

    private static final List<String> IDS = List.of("w1", "w2", "w3");

    private static WorkerView up(String id, int inFlight) {
        return new WorkerView(id, true, false, false, inFlight);
    }

    @Test
    void hashPlacementSendsEverySessionToItsFirstChoiceWhateverTheLoad() {
        HashPlacement hash = new HashPlacement();
        // w1 is swamped: plain hashing does not care (no load bound).
        List<WorkerView> ws = List.of(up("w1", 50), up("w2", 0), up("w3", 0));
        for (int i = 0; i < 300; i++) {
            String s = "s-" + i;
            PlacementDecision d = hash.decide(s, null, ws, Map.of(), true);
            assertEquals(RendezvousHash.top(s, IDS), d.chosen());
            assertFalse(d.fallback());
            assertFalse(d.rebalanced());
        }
        assertEquals(0, hash.loadFactor());
    }

    @Test
    void hashPlacementFailsInsteadOfFallingBackWhenTheSessionsWorkerCannotServe() {
        HashPlacement hash = new HashPlacement();
        String s = "s-7";
        String top = RendezvousHash.top(s, IDS);
        List<WorkerView> down = IDS.stream().map(id -> new WorkerView(id, !id.equals(top), false, false, 0)).toList();
        PlacementDecision d = hash.decide(s, null, down, Map.of(), false);
        assertNull(d.chosen());
        assertEquals(top, d.preferred());
        assertTrue(d.failure().contains(top) && d.failure().contains("no fallback"), d.failure());

        PlacementDecision failed = hash.decide(s, null, IDS.stream().map(id -> up(id, 0)).toList(),
                Map.of(top, "UNAVAILABLE: connection refused"), false);
        assertNull(failed.chosen());
        assertTrue(failed.failure().contains("UNAVAILABLE: connection refused"), failed.failure());
        assertEquals("no worker is serving: 0 registered", hash.decide(s, null, List.of(), Map.of(), false).failure());
    }

    @Test
    void roundRobinGivesEachTurnToTheNextServingWorkerWhateverTheSession() {
        RoundRobinPlacement rr = new RoundRobinPlacement();
        List<WorkerView> ws = List.of(up("w3", 0), up("w1", 9), up("w2", 0));
        Map<String, Integer> turns = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            PlacementDecision d = rr.decide("same-session", null, ws, Map.of(), true);
            assertEquals(IDS.get(i % 3), d.chosen(), "turn " + i);
            turns.merge(d.chosen(), 1, Integer::sum);
        }
        assertEquals(Map.of("w1", 10, "w2", 10, "w3", 10), turns);

        List<WorkerView> oneDown = List.of(up("w1", 0), new WorkerView("w2", false, false, false, 0), up("w3", 0));
        RoundRobinPlacement fresh = new RoundRobinPlacement();
        assertEquals("w1", fresh.decide("s", null, oneDown, Map.of(), false).chosen());
        PlacementDecision skip = fresh.decide("s", null, oneDown, Map.of(), false);
        assertEquals("w3", skip.chosen());
        assertEquals("w2", skip.preferred());
        assertTrue(skip.fallback());
        assertTrue(fresh.decide("s", null, oneDown, Map.of("w1", "x", "w3", "y"), false).failure()
                .startsWith("no worker is serving: 3 registered"));
    }

    @Test
    void theModeFlagNamesItsChoices() {
        assertEquals(PlacementMode.HYBRID, PlacementMode.parse("hybrid"));
        assertEquals(PlacementMode.HASH, PlacementMode.parse(" HASH "));
        assertEquals(PlacementMode.ROUND_ROBIN, PlacementMode.parse("round-robin"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlacementMode.parse("random"));
        assertEquals("placement: must be one of hybrid, hash, round-robin, got 'random'", e.getMessage());
        assertTrue(PlacementMode.HYBRID.usesBindings());
        assertFalse(PlacementMode.HASH.usesBindings());
        assertFalse(PlacementMode.ROUND_ROBIN.usesBindings());
    }

    @Test
    void rebalancingMovesAreLimitedToTheRatePerSecondWithABurstOfOneSecond() {
        AtomicLong now = new AtomicLong(0);
        RebalanceThrottle t = new RebalanceThrottle(4, now::get);
        int granted = 0;
        for (int i = 0; i < 10; i++) {
            granted += t.tryAcquire() ? 1 : 0;
        }
        assertEquals(4, granted, "a full bucket holds one second's worth");
        now.addAndGet(500_000_000L);
        assertTrue(t.tryAcquire());
        assertTrue(t.tryAcquire());
        assertFalse(t.tryAcquire(), "half a second refills two");
        now.addAndGet(60_000_000_000L);
        granted = 0;
        for (int i = 0; i < 10; i++) {
            granted += t.tryAcquire() ? 1 : 0;
        }
        assertEquals(4, granted, "an idle minute does not bank more than the burst");
        assertThrows(IllegalArgumentException.class, () -> new RebalanceThrottle(0));
    }
}

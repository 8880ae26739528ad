package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.router.PlacementDecision.SkipKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlacementTest {

    private final HybridPlacement placement = new HybridPlacement(1.25);

    private static WorkerView up(String id, int inFlight) {
        return new WorkerView(id, true, false, false, inFlight);
    }

    private static List<WorkerView> idle(String... ids) {
        List<WorkerView> l = new ArrayList<>();
        for (String id : ids) {
            l.add(up(id, 0));
        }
        return l;
    }

    @Test
    void loadBoundIsCeilOfCTimesMeanIncludingTheNewTurn() {
        assertEquals(1, placement.loadBound(0, 3));      // ceil(1.25 * 1 / 3)
        assertEquals(2, placement.loadBound(3, 3));      // ceil(1.25 * 4 / 3) = ceil(1.67)
        assertEquals(5, placement.loadBound(11, 3));     // ceil(1.25 * 12 / 3) = 5
        assertEquals(4, placement.loadBound(15, 5));     // ceil(1.25 * 16 / 5) = ceil(4.0) = 4, not 5
        assertEquals(0, placement.loadBound(3, 0));
    }

    @Test
    void newSessionGoesToTheHashesFirstChoice() {
        List<WorkerView> ws = idle("w1", "w2", "w3");
        for (int i = 0; i < 200; i++) {
            String s = "session-" + i;
            PlacementDecision d = placement.decide(s, null, ws, Map.of());
            assertEquals(RendezvousHash.top(s, List.of("w1", "w2", "w3")), d.chosen());
            assertEquals(d.chosen(), d.preferred());
            assertFalse(d.fallback());
        }
    }

    @Test
    void boundSessionStaysOnItsWorkerEvenWhenTheHashPrefersAnother() {
        String s = "session-7";
        String top = RendezvousHash.top(s, List.of("w1", "w2", "w3"));
        String other = top.equals("w1") ? "w2" : "w1";
        PlacementDecision d = placement.decide(s, other, idle("w1", "w2", "w3"), Map.of());
        assertEquals(other, d.chosen());
        assertFalse(d.fallback());
    }

    @Test
    void fallsBackToTheNextHashCandidateWhenTheBoundWorkerLeft() {
        String s = "session-3";
        PlacementDecision d = placement.decide(s, "gone", idle("w1", "w2", "w3"), Map.of());
        assertEquals(RendezvousHash.top(s, List.of("w1", "w2", "w3")), d.chosen());
        assertEquals("gone", d.preferred());
        assertTrue(d.fallback());
        assertEquals(SkipKind.GONE, d.preferredSkipKind());
    }

    @Test
    void skipsWorkersNotServingWithOpenBreakerOrFailedThisTurn() {
        String s = "session-11";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        List<WorkerView> ws = new ArrayList<>();
        ws.add(new WorkerView(rank.get(0), false, false, false, 0));
        ws.add(new WorkerView(rank.get(1), true, false, true, 0));
        ws.add(up(rank.get(2), 0));
        PlacementDecision d = placement.decide(s, null, ws, Map.of());
        assertEquals(rank.get(2), d.chosen());
        assertEquals(rank.get(0), d.preferred());
        assertEquals(SkipKind.NOT_SERVING, d.skipped().get(0).kind());
        assertEquals(SkipKind.BREAKER_OPEN, d.skipped().get(1).kind());

        PlacementDecision none = placement.decide(s, null, ws, Map.of(rank.get(2), "UNAVAILABLE: connection refused"));
        assertNull(none.chosen());
        assertTrue(none.failure().startsWith("no worker is serving: 3 registered"), none.failure());
        assertTrue(none.failure().contains("UNAVAILABLE: connection refused"), none.failure());
    }

    @Test
    void saysAllFailedWhenEveryWorkerFailedThisTurn() {
        PlacementDecision d = placement.decide("s", null, idle("w1", "w2"),
                Map.of("w1", "UNAVAILABLE: io exception", "w2", "RESOURCE_EXHAUSTED: queue full"));
        assertNull(d.chosen());
        assertTrue(d.failure().startsWith("all 2 workers failed: "), d.failure());
    }

    @Test
    void noWorkersAtAllIsAClearMessage() {
        PlacementDecision d = placement.decide("s", null, List.of(), Map.of());
        assertNull(d.chosen());
        assertEquals("no worker is serving: 0 registered", d.failure());
    }

    @Test
    void drainingWorkerKeepsItsBoundSessionsButGetsNoNewOnes() {
        String s = "session-5";
        String top = RendezvousHash.top(s, List.of("w1", "w2", "w3"));
        List<WorkerView> ws = new ArrayList<>();
        for (String id : List.of("w1", "w2", "w3")) {
            ws.add(new WorkerView(id, true, id.equals(top), false, 0));
        }
        PlacementDecision fresh = placement.decide(s, null, ws, Map.of());
        assertNotEquals(top, fresh.chosen());
        assertNotEquals(top, fresh.preferred(), "a draining worker is nobody's preference for a new session");
        assertFalse(fresh.fallback());

        PlacementDecision bound = placement.decide(s, top, ws, Map.of());
        assertEquals(top, bound.chosen());
    }

    @Test
    void spillsToTheNextCandidateWhenTheBoundWorkerIsAtItsLoadBound() {
        String s = "session-9";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        List<WorkerView> ws = List.of(up(rank.get(0), 4), up(rank.get(1), 0), up(rank.get(2), 0));
        // total 4, bound ceil(1.25 * 5 / 3) = 3: the first choice (4 in flight) is over it
        PlacementDecision d = placement.decide(s, rank.get(0), ws, Map.of());
        assertEquals(rank.get(1), d.chosen());
        assertEquals(SkipKind.OVERLOADED, d.preferredSkipKind());
        assertTrue(d.preferredSkipReason().startsWith("over load bound (in-flight 4, bound 3"), d.preferredSkipReason());
    }

    @Test
    void skewedWorkloadNeverPutsAWorkerAboveTheBound() {
        // Every session prefers the same worker (a hot spot); turns arrive and finish at random. At every placement
        // the chosen worker must stay within ceil(c x (total + 1) / n).
        List<String> ids = List.of("w1", "w2", "w3", "w4");
        List<String> hot = new ArrayList<>();
        for (int i = 0; hot.size() < 400; i++) {
            String s = "hot-" + i;
            if (RendezvousHash.top(s, ids).equals("w1")) {
                hot.add(s);
            }
        }
        Map<String, Integer> load = new HashMap<>();
        ids.forEach(id -> load.put(id, 0));
        List<String> running = new ArrayList<>();
        Random random = new Random(42);
        int spilled = 0;
        int maxW1 = 0;
        for (int step = 0; step < 20_000; step++) {
            if (!running.isEmpty() && (running.size() > 30 || random.nextInt(3) == 0)) {
                String w = running.remove(random.nextInt(running.size()));
                load.merge(w, -1, Integer::sum);
                continue;
            }
            List<WorkerView> views = new ArrayList<>();
            ids.forEach(id -> views.add(up(id, load.get(id))));
            int total = load.values().stream().mapToInt(Integer::intValue).sum();
            PlacementDecision d = placement.decide(hot.get(random.nextInt(hot.size())), "w1", views, Map.of());
            int after = load.get(d.chosen()) + 1;
            assertTrue(after <= placement.loadBound(total, ids.size()), "worker " + d.chosen() + " at " + after
                    + " over bound " + placement.loadBound(total, ids.size()));
            assertTrue(after <= Math.ceil(1.25 * (total + 1) / ids.size()));
            if (!d.chosen().equals("w1")) {
                spilled++;
            }
            load.put(d.chosen(), after);
            maxW1 = Math.max(maxW1, load.get("w1"));
            running.add(d.chosen());
        }
        assertTrue(spilled > 0, "the hot worker never spilled");
        assertTrue(maxW1 <= Math.ceil(1.25 * 31 / 4), "hot worker ran " + maxW1);
    }

    @Test
    void servesOverTheBoundRatherThanFailWhenEveryOtherWorkerFailed() {
        List<WorkerView> ws = List.of(up("w1", 5), up("w2", 0));
        PlacementDecision d = placement.decide("s", "w1", ws, Map.of("w2", "UNAVAILABLE: connection refused"));
        // total 5 over 2 workers: bound ceil(1.25 * 6 / 2) = 4 < 6, but w2 failed: w1 serves anyway
        assertEquals("w1", d.chosen());
        assertTrue(d.overLoadBound());
        assertFalse(placement.decide("s", "w1", List.of(up("w1", 0), up("w2", 0)), Map.of()).overLoadBound());
    }

    @Test
    void refusesAFactorBelowOne() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new HybridPlacement(0.9));
    }

    // Rebalancing on join.

    private static WorkerView registered(String id, int inFlight, long registeredAtMs) {
        return new WorkerView(id, true, false, false, inFlight, registeredAtMs);
    }

    private static Binding preferredBinding(String worker, long horizonMs) {
        return new Binding(worker, 1, 0, "r", Binding.Kind.PREFERRED, horizonMs);
    }

    @Test
    void whenAFourthWorkerJoinsAboutAQuarterOfPreferredSessionsMoveToItAndNoOtherSessionMoves() {
        List<String> three = List.of("w1", "w2", "w3");
        List<WorkerView> four = List.of(registered("w1", 0, 100), registered("w2", 0, 110), registered("w3", 0, 120),
                registered("w4", 0, 500));
        int n = 4000;
        int moved = 0;
        for (int i = 0; i < n; i++) {
            String s = "join-" + i;
            String was = RendezvousHash.top(s, three);
            PlacementDecision d = placement.decide(s, preferredBinding(was, 120), four, Map.of(), true);
            if (d.rebalanced()) {
                moved++;
                assertEquals("w4", d.chosen(), "a session moves only to the newcomer");
                assertEquals("w4", d.preferred());
                assertEquals(was, d.rebalancedFrom());
                assertFalse(d.fallback());
                assertEquals(Binding.Kind.PREFERRED, d.kind(), "a rebalanced session may move again on a later join");
                assertEquals(500, d.horizonMs());
            } else {
                assertEquals(was, d.chosen(), "every other session stays where it is warm");
                assertNotEquals("w4", RendezvousHash.top(s, List.of("w1", "w2", "w3", "w4")));
            }
            PlacementDecision off = placement.decide(s, preferredBinding(was, 120), four, Map.of(), false);
            assertEquals(was, off.chosen(), "with rebalancing off nothing moves");
        }
        double share = moved / (double) n;
        assertTrue(share > 0.22 && share < 0.28, "moved share " + share);
    }

    @Test
    void aSessionMovedByFailoverStaysWhereItIsWarmWhenItsOldWorkerComesBack() {
        String s = preferring("w2", List.of("w1", "w2", "w3"));
        // w2 died, the session failed over to w1 (FALLBACK); w2 restarts with a newer registration.
        Binding failedOver = new Binding("w1", 2, 0, "r", Binding.Kind.FALLBACK, 120);
        List<WorkerView> back = List.of(registered("w1", 0, 100), registered("w2", 0, 900), registered("w3", 0, 120));
        PlacementDecision d = placement.decide(s, failedOver, back, Map.of(), true);
        assertEquals("w1", d.chosen());
        assertFalse(d.rebalanced());
        assertFalse(d.fallback());
    }

    @Test
    void aFirstChoiceThatRegisteredBeforeTheBindingWasWrittenDoesNotPullTheSession() {
        // The binding was made knowing of w3 (horizon 300 >= its registration): the router chose w1 for a reason.
        String s = preferring("w3", List.of("w1", "w2", "w3"));
        List<WorkerView> ws = List.of(registered("w1", 0, 100), registered("w2", 0, 200), registered("w3", 0, 300));
        PlacementDecision d = placement.decide(s, preferredBinding("w1", 300), ws, Map.of(), true);
        assertEquals("w1", d.chosen());
        assertFalse(d.rebalanced());
    }

    @Test
    void aMoveWaitsWhileTheNewcomerIsNotServingOverItsBoundOrFailedThisTurn() {
        String s = preferring("w4", List.of("w1", "w2", "w3", "w4"));
        String was = RendezvousHash.top(s, List.of("w1", "w2", "w3"));
        Binding b = preferredBinding(was, 100);
        List<WorkerView> notServing = List.of(registered("w1", 0, 100), registered("w2", 0, 100),
                registered("w3", 0, 100), new WorkerView("w4", false, false, false, 0, 500));
        assertEquals(was, placement.decide(s, b, notServing, Map.of(), true).chosen());
        // total 4, bound ceil(1.25 x 5 / 4) = 2: w4 with 2 in flight is at it
        List<WorkerView> busy = List.of(registered("w1", 1, 100), registered("w2", 1, 100),
                registered("w3", 0, 100), registered("w4", 2, 500));
        assertEquals(was, placement.decide(s, b, busy, Map.of(), true).chosen());
        List<WorkerView> idle = List.of(registered("w1", 0, 100), registered("w2", 0, 100),
                registered("w3", 0, 100), registered("w4", 0, 500));
        assertEquals(was, placement.decide(s, b, idle, Map.of("w4", "UNAVAILABLE: refused"), true).chosen());
        assertEquals("w4", placement.decide(s, b, idle, Map.of(), true).chosen());
    }

    @Test
    void aNewSessionOnItsFirstChoiceIsBoundPreferredAndAnythingElseFallback() {
        List<String> ids = List.of("w1", "w2", "w3");
        String s = "kind-1";
        List<String> rank = RendezvousHash.rank(s, ids);
        assertEquals(Binding.Kind.PREFERRED, placement.decide(s, (Binding) null, idle("w1", "w2", "w3"), Map.of(),
                true).kind());
        List<WorkerView> firstDown = List.of(new WorkerView(rank.get(0), false, false, false, 0), up(rank.get(1), 0),
                up(rank.get(2), 0));
        PlacementDecision spill = placement.decide(s, (Binding) null, firstDown, Map.of(), true);
        assertEquals(rank.get(1), spill.chosen());
        assertEquals(Binding.Kind.FALLBACK, spill.kind());
        // A bound session moved off its (gone) worker is FALLBACK even when it lands on its hash's first choice.
        PlacementDecision moved = placement.decide(s, preferredBinding("gone", 0), idle("w1", "w2", "w3"),
                Map.of(), true);
        assertEquals(rank.get(0), moved.chosen());
        assertEquals(Binding.Kind.FALLBACK, moved.kind());
    }

    private static WorkerView withCapacity(String id, int inFlight, int capacity) {
        return new WorkerView(id, true, false, false, inFlight, 0, capacity);
    }

    @Test
    void workerAtCapacityIsNotOfferedMoreEvenWhenEveryOtherIsOverTheLoadBound() {
        String s = "cap-1";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        // The first choice is at its advertised capacity; the others failed this turn: nothing is left, not even
        // "serve late" on the full worker.
        List<WorkerView> ws = List.of(withCapacity(rank.get(0), 2, 2), withCapacity(rank.get(1), 0, 2),
                withCapacity(rank.get(2), 0, 2));
        PlacementDecision d = placement.decide(s, null, ws, Map.of(rank.get(1), "UNAVAILABLE: down",
                rank.get(2), "UNAVAILABLE: down"));
        assertNull(d.chosen());
        assertTrue(d.full(), "a full worker among the rest makes the refusal RESOURCE_EXHAUSTED, not UNAVAILABLE");
        assertEquals(SkipKind.AT_CAPACITY, d.preferredSkipKind());
        assertEquals("at capacity (2 turns in flight, capacity 2)", d.preferredSkipReason());
    }

    @Test
    void everyWorkerAtCapacityChoosesNoneAndSaysFull() {
        List<WorkerView> ws = List.of(withCapacity("w1", 2, 2), withCapacity("w2", 2, 2), withCapacity("w3", 2, 2));
        PlacementDecision d = placement.decide("cap-2", null, ws, Map.of());
        assertNull(d.chosen());
        assertTrue(d.full());
        assertEquals(3, d.skipped().stream().filter(k -> k.kind() == SkipKind.AT_CAPACITY).count());
        PlacementDecision down = placement.decide("cap-2", null, List.of(new WorkerView("w1", false, false, false, 0)),
                Map.of());
        assertFalse(down.full(), "no worker serving is UNAVAILABLE, not a full cluster");
    }

    @Test
    void overTheLoadBoundButUnderCapacityStillServesLate() {
        String s = "cap-3";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        // total 15, load bound ceil(1.25 x 16 / 3) = 7: the first choice (7) is over it but under its capacity 8
        List<WorkerView> ws = List.of(withCapacity(rank.get(0), 7, 8), withCapacity(rank.get(1), 8, 8),
                withCapacity(rank.get(2), 0, 8));
        PlacementDecision d = placement.decide(s, null, ws, Map.of(rank.get(2), "UNAVAILABLE: down"));
        assertEquals(rank.get(0), d.chosen());
        assertTrue(d.overLoadBound());
    }

    @Test
    void aSessionLeavingAFullFirstChoiceIsSpilledAndAFailedOneFallback() {
        String s = "spill-1";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        List<WorkerView> firstFull = List.of(withCapacity(rank.get(0), 2, 2), withCapacity(rank.get(1), 0, 2),
                withCapacity(rank.get(2), 0, 2));
        assertEquals(Binding.Kind.SPILLED, placement.decide(s, (Binding) null, firstFull, Map.of(), true).kind());
        // bound to its first choice, which refused the turn as full (RESOURCE_EXHAUSTED): spilled too
        PlacementDecision refused = placement.decide(s, preferredBinding(rank.get(0), 0), idle("w1", "w2", "w3"),
                Map.of(rank.get(0), "RESOURCE_EXHAUSTED: worker overloaded"), true);
        assertEquals(SkipKind.FULL, refused.preferredSkipKind());
        assertEquals(Binding.Kind.SPILLED, refused.kind());
        // bound to its first choice, which failed: a failover, never moved back
        PlacementDecision failed = placement.decide(s, preferredBinding(rank.get(0), 0), idle("w1", "w2", "w3"),
                Map.of(rank.get(0), "UNAVAILABLE: connection refused"), true);
        assertEquals(Binding.Kind.FALLBACK, failed.kind());
    }

    @Test
    void aSpilledSessionReturnsToItsFirstChoiceOnceThatHasRoom() {
        String s = "spill-2";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        Binding spilled = new Binding(rank.get(1), 2, 0, "r", Binding.Kind.SPILLED, 0);
        // first choice still full: stays where it is warm
        List<WorkerView> full = List.of(withCapacity(rank.get(0), 2, 2), withCapacity(rank.get(1), 0, 2),
                withCapacity(rank.get(2), 0, 2));
        PlacementDecision stays = placement.decide(s, spilled, full, Map.of(), true);
        assertEquals(rank.get(1), stays.chosen());
        assertFalse(stays.rebalanced());
        assertEquals(Binding.Kind.SPILLED, stays.kind(), "it still wants to go back");
        // first choice has room: back there, PREFERRED again, reported as a rebalancing move
        List<WorkerView> room = List.of(withCapacity(rank.get(0), 1, 2), withCapacity(rank.get(1), 1, 2),
                withCapacity(rank.get(2), 1, 2));
        PlacementDecision back = placement.decide(s, spilled, room, Map.of(), true);
        assertEquals(rank.get(0), back.chosen());
        assertTrue(back.rebalanced());
        assertEquals(rank.get(1), back.rebalancedFrom());
        assertEquals(Binding.Kind.PREFERRED, back.kind());
        assertEquals(rank.get(1), back.stay().chosen(), "put off by the rate limit, it stays");
        // a FALLBACK binding (failover) on the same worker does not move
        Binding failedOver = new Binding(rank.get(1), 2, 0, "r", Binding.Kind.FALLBACK, 0);
        assertEquals(rank.get(1), placement.decide(s, failedOver, room, Map.of(), true).chosen());
    }

    @Test
    void whileItsFirstChoiceIsFullASessionSpillsOnlyToAWorkerWithMoreThanTheReserveFree() {
        HybridPlacement reserved = new HybridPlacement(1.25, 1);
        String s = "reserve-1";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        // first choice full; the others have one slot free each: kept for their own sessions
        List<WorkerView> lastSlots = List.of(withCapacity(rank.get(0), 2, 2), withCapacity(rank.get(1), 1, 2),
                withCapacity(rank.get(2), 1, 2));
        PlacementDecision refused = reserved.decide(s, (Binding) null, lastSlots, Map.of(), true);
        assertNull(refused.chosen());
        assertTrue(refused.full(), "refused with RESOURCE_EXHAUSTED: " + refused.skipped());
        // one of them has two free: it takes the spill
        List<WorkerView> room = List.of(withCapacity(rank.get(0), 2, 2), withCapacity(rank.get(1), 1, 2),
                withCapacity(rank.get(2), 0, 2));
        assertEquals(rank.get(2), reserved.decide(s, (Binding) null, room, Map.of(), true).chosen());
        // the first choice merely over the load bound (not full): the load bound's spill, no reserve
        List<WorkerView> skewed = List.of(withCapacity(rank.get(0), 6, 8), withCapacity(rank.get(1), 7, 8),
                withCapacity(rank.get(2), 0, 8));
        assertEquals(SkipKind.OVERLOADED, reserved.decide(s, (Binding) null, skewed, Map.of(), true)
                .preferredSkipKind());
    }

    @Test
    void otherRoutersTurnsCountAgainstCapacityButNotInTheLoadBound() {
        String s = "others-1";
        List<String> rank = RendezvousHash.rank(s, List.of("w1", "w2", "w3"));
        // The first choice runs one turn of another router (as last reported) and none of ours: with nothing of ours
        // in flight the load bound is 1, and a stale report must not turn the session away from it.
        List<WorkerView> oneOther = List.of(new WorkerView(rank.get(0), true, false, false, 0, 0, 18, 1),
                withCapacity(rank.get(1), 0, 18), withCapacity(rank.get(2), 0, 18));
        assertEquals(rank.get(0), placement.decide(s, null, oneOther, Map.of()).chosen());
        // Full with the other routers' turns: passed over for capacity.
        List<WorkerView> full = List.of(new WorkerView(rank.get(0), true, false, false, 0, 0, 2, 2),
                withCapacity(rank.get(1), 0, 2), withCapacity(rank.get(2), 0, 2));
        PlacementDecision d = placement.decide(s, null, full, Map.of());
        assertEquals(rank.get(1), d.chosen());
        assertEquals(SkipKind.AT_CAPACITY, d.preferredSkipKind());
    }

    private static String preferring(String worker, List<String> ids) {
        for (int i = 0; ; i++) {
            if (RendezvousHash.top("p-" + i, ids).equals(worker)) {
                return "p-" + i;
            }
        }
    }
}

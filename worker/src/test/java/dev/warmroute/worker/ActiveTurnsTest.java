package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a worker reports as its load per router ({@code WorkerRegistry.reportLoad}), and which router ids it keeps. */
class ActiveTurnsTest {

    @Test
    void countsRunningTurnsPerRouterAndForgetsRoutersWithNone() {
        ActiveTurns a = new ActiveTurns();
        a.begin("router-a");
        a.begin("router-a");
        a.begin("router-b");
        a.begin("");
        assertEquals(Map.of("router-a", 2, "router-b", 1, "", 1), a.byRouter());
        assertEquals(4, a.count());
        a.end("router-b");
        a.end("router-a");
        assertEquals(Map.of("router-a", 1, "", 1), a.byRouter(), "a router with no turn left is not reported");
        assertEquals(2, a.count());
    }

    @Test
    void aRouterHeaderThatIsNoPlausibleIdIsCountedApartAndTheNumberOfIdsIsBounded() {
        ActiveTurns a = new ActiveTurns();
        assertEquals("", a.routerKey(null), "a client calling the worker directly");
        assertEquals("router@127.0.0.1:7000", a.routerKey("router@127.0.0.1:7000"));
        assertEquals(ActiveTurns.OTHER, a.routerKey("has space"));
        assertEquals(ActiveTurns.OTHER, a.routerKey("x".repeat(129)));
        for (int i = 0; i < ActiveTurns.MAX_ROUTERS; i++) {
            a.begin(a.routerKey("r" + i));
        }
        assertEquals(ActiveTurns.OTHER, a.routerKey("one-more"), "no unbounded map from a header");
        assertEquals("r3", a.routerKey("r3"), "a router already counted keeps its key");
    }
}

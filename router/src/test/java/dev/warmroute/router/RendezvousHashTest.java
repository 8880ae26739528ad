package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousHashTest {

    private static final List<String> THREE = List.of("127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103");

    private static List<String> sessions(int n) {
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add("s-" + Integer.toHexString(i * 7919) + "-" + i);
        }
        return ids;
    }

    @Test
    void weightsNeverChangeAcrossReleases() {
        // Every router replica, old and new, must compute the same placement: changing the hash would move every
        // session at once on upgrade. These values were computed when the function was written; they must stay.
        assertEquals(Long.parseUnsignedLong("7323913600414792212"), RendezvousHash.weight("s-1", "w1"));
        assertEquals(Long.parseUnsignedLong("11838493647242510242"), RendezvousHash.weight("s-1", "w2"));
        assertEquals(Long.parseUnsignedLong("9532043973808917816"),
                RendezvousHash.weight("session-äöü", "127.0.0.1:7101"));
    }

    @Test
    void rankDoesNotDependOnTheOrderWorkersAreListed() {
        List<String> reversed = new ArrayList<>(THREE);
        java.util.Collections.reverse(reversed);
        for (String s : sessions(500)) {
            assertEquals(RendezvousHash.rank(s, THREE), RendezvousHash.rank(s, reversed));
            assertEquals(RendezvousHash.rank(s, THREE).get(0), RendezvousHash.top(s, reversed));
        }
    }

    @Test
    void spreadsSessionsEvenly() {
        Map<String, Integer> counts = new HashMap<>();
        int n = 30_000;
        for (String s : sessions(n)) {
            counts.merge(RendezvousHash.top(s, THREE), 1, Integer::sum);
        }
        for (String w : THREE) {
            double share = counts.get(w) / (double) n;
            assertTrue(Math.abs(share - 1 / 3.0) < 0.02, w + " got " + share);
        }
    }

    @Test
    void aFourthWorkerTakesAboutAQuarterAndOnlyFromTheOthers() {
        List<String> four = new ArrayList<>(THREE);
        four.add("127.0.0.1:7104");
        int n = 40_000;
        int moved = 0;
        for (String s : sessions(n)) {
            String before = RendezvousHash.top(s, THREE);
            String after = RendezvousHash.top(s, four);
            if (!before.equals(after)) {
                moved++;
                assertEquals("127.0.0.1:7104", after, "a session moved between two old workers: " + s);
            }
        }
        double share = moved / (double) n;
        assertTrue(share > 0.23 && share < 0.27, "moved share " + share + ", expected about 1/4");
    }

    @Test
    void removingAWorkerMovesOnlyItsSessionsAndSpreadsThemOverTheRest() {
        List<String> two = List.of(THREE.get(0), THREE.get(2));
        Map<String, Integer> receivers = new HashMap<>();
        for (String s : sessions(20_000)) {
            String before = RendezvousHash.top(s, THREE);
            String after = RendezvousHash.top(s, two);
            if (before.equals(THREE.get(1))) {
                receivers.merge(after, 1, Integer::sum);
                // The next candidate in the old ranking is where it goes: fallback order is the ranking.
                assertEquals(RendezvousHash.rank(s, THREE).get(1), after);
            } else {
                assertEquals(before, after, "a session of a surviving worker moved: " + s);
            }
        }
        int a = receivers.get(THREE.get(0));
        int b = receivers.get(THREE.get(2));
        assertTrue(Math.abs(a - b) / (double) (a + b) < 0.05, "uneven spread of the lost worker's sessions " + a
                + " vs " + b);
    }
}

package dev.warmroute.cluster.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The split-brain merge of a session keeps every turn either side acknowledged when one history extends the other,
 * and keeps the larger side's record (counted as a divergence) when both sides committed different turns.
 */
class SessionMergePolicyTest {

    private static final SessionRecord BASE = SessionRecord.create("s", "alice", "m", "", new int[0], "fp",
            new StoredSettings(256, 2, 75, 0f, 1f, 1L, 16), 1L, "d");

    private static Turn turn(int i, String request, String attempt) {
        return new Turn(i, request, attempt, "u" + i, new int[] {i}, "a" + i, new int[] {i}, 1, "w", 3, 10L + i);
    }

    private static SessionRecord with(SessionRecord r, Turn... turns) {
        SessionRecord out = r;
        for (Turn t : turns) {
            out = out.withTurn(t, 0, t.createTimeMs());
        }
        return out;
    }

    @Test
    void theLongerOfTwoConsistentHistoriesWinsWhicheverSideHeldIt() {
        SessionRecord two = with(BASE, turn(0, "r0", "a0"), turn(1, "r1", "a1"));
        SessionRecord three = with(two, turn(2, "r2", "a2"));
        assertEquals(SessionMergePolicy.Choice.MERGING, SessionMergePolicy.choose(three, two));
        assertEquals(SessionMergePolicy.Choice.EXISTING, SessionMergePolicy.choose(two, three));
        assertEquals(SessionMergePolicy.Choice.EXISTING, SessionMergePolicy.choose(two, two));
        assertEquals(SessionMergePolicy.Choice.MERGING, SessionMergePolicy.choose(two, BASE),
                "a new session's first turns from the smaller side are kept");
    }

    @Test
    void differentTurnsAtTheSameIndexAreADivergenceAndTheLargerSideIsKept() {
        SessionRecord ours = with(BASE, turn(0, "r0", "a0"), turn(1, "r1", "a1"));
        SessionRecord theirs = with(BASE, turn(0, "r0", "a0"), turn(1, "r1", "other-attempt"), turn(2, "r2", "a2"));
        assertEquals(SessionMergePolicy.Choice.DIVERGED, SessionMergePolicy.choose(theirs, ours),
                "longer but not an extension: a real divergence, not 'the higher version'");
    }

    @Test
    void aSessionDeletedAndCreatedAgainOnOneSideIsADivergence() {
        SessionRecord recreated = new SessionRecord("s", "alice", "m", "", new int[0], "fp", BASE.settings(),
                List.of(), 0, 0, 5L, 5L, "another-incarnation", "d");
        assertEquals(SessionMergePolicy.Choice.DIVERGED, SessionMergePolicy.choose(with(BASE, turn(0, "r0", "a0")),
                recreated));
    }
}

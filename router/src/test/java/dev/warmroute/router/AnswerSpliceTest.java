package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.TokenDelta;
import org.junit.jupiter.api.Test;

class AnswerSpliceTest {

    private static TokenDelta delta(int index, String text, int... ids) {
        TokenDelta.Builder b = TokenDelta.newBuilder().setIndex(index).setText(text);
        for (int id : ids) {
            b.addTokenIds(id);
        }
        return b.build();
    }

    @Test
    void passesAFirstAttemptThroughUnchanged() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        assertFalse(s.anySent());
        assertEquals(delta(0, "Once", 10), s.accept(delta(0, "Once", 10)));
        assertEquals(delta(1, " upon", 11), s.accept(delta(1, " upon", 11)));
        assertTrue(s.anySent());
        assertEquals("Once upon", s.text());
        assertArrayEquals(new int[] {10, 11}, s.tokens());
    }

    @Test
    void continuesAResumedAttemptWhereTheClientStopped() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        s.accept(delta(0, "Once", 10));
        s.accept(delta(1, " upon", 11));
        // the worker died; the next one was given tokens [10, 11] and continues at index 2
        s.newAttempt();
        assertEquals(delta(2, " a", 12), s.accept(delta(2, " a", 12)));
        assertEquals(delta(3, " time", 13), s.accept(delta(3, " time", 13)));
        assertEquals("Once upon a time", s.text());
        assertArrayEquals(new int[] {10, 11, 12, 13}, s.tokens());
    }

    @Test
    void sendsOnlyTheUnseenTailOfAReplayedAnswer() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        s.accept(delta(0, "Once", 10));
        s.accept(delta(1, " upon", 11));
        // the worker committed and died before TurnComplete: the next one replays the stored answer from 0
        s.newAttempt();
        assertEquals(delta(2, " a time", 12, 13), s.accept(delta(0, "Once upon a time", 10, 11, 12, 13)));
        assertEquals("Once upon a time", s.text());
    }

    @Test
    void aRepeatedTextOnlyTailIsNotSentTwice() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        s.accept(delta(0, "caf", 10));
        s.accept(delta(1, "", 11));          // first byte of "é" pending in the decoder
        assertEquals(delta(2, "é"), s.accept(delta(2, "é")));   // flushed at the end
        // failed before TurnComplete: the resumed worker stops at once and flushes the same tail
        s.newAttempt();
        assertNull(s.accept(delta(2, "é")));
        assertEquals("café", s.text());
    }

    @Test
    void refusesAContinuationThatDiffersFromWhatWasSent() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        s.accept(delta(0, "Once", 10));
        s.accept(delta(1, " upon", 11));
        s.newAttempt();
        assertThrows(AnswerSplice.DivergenceException.class, () -> s.accept(delta(0, "Twice upon", 20, 11)));
        AnswerSplice t = new AnswerSplice();
        t.newAttempt();
        t.accept(delta(0, "Once", 10));
        t.newAttempt();
        assertThrows(AnswerSplice.DivergenceException.class, () -> t.accept(delta(0, "Onze", 10)));
    }

    @Test
    void refusesGaps() throws Exception {
        AnswerSplice s = new AnswerSplice();
        s.newAttempt();
        s.accept(delta(0, "a", 1));
        assertThrows(AnswerSplice.DivergenceException.class, () -> s.accept(delta(2, "c", 3)));
        AnswerSplice t = new AnswerSplice();
        t.newAttempt();
        t.accept(delta(0, "a", 1));
        t.newAttempt();
        assertThrows(AnswerSplice.DivergenceException.class, () -> t.accept(delta(3, "d", 4)));
    }
}

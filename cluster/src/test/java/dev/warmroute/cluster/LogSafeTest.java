package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LogSafeTest {

    @Test
    void aValidIdIsLoggedAsItIs() {
        assertEquals("chat-42:a.b_c", LogSafe.id("chat-42:a.b_c"));
        assertEquals("x".repeat(128), LogSafe.id("x".repeat(128)));
    }

    @Test
    void aForgedLogLineStaysOnOneLine() {
        String forged = "s1\n10:00:00.000 INFO  ChatProxy turn.commit session=victim";
        String logged = LogSafe.id(forged);
        assertFalse(logged.contains("\n"), logged);
        assertTrue(logged.startsWith("<invalid " + forged.length() + " chars: \"s1\\n10:00"), logged);
    }

    @Test
    void aHugeValueIsCutAndItsLengthTold() {
        String logged = LogSafe.id("a".repeat(4_000_000));
        assertTrue(logged.length() < LogSafe.MAX_CHARS + 40, logged);
        assertTrue(logged.startsWith("<invalid 4000000 chars: "), logged);
        assertTrue(logged.endsWith("...\">"), logged);
    }

    @Test
    void controlCharactersQuotesAndNonAsciiAreEscaped() {
        assertEquals("a\\\"b\\\\c\\u001b[31m\\u00e9\\ud83d\\ude00\\t", LogSafe.text("a\"b\\c\u001b[31mé😀\t"));
        assertEquals("<empty>", LogSafe.id(""));
        assertEquals("<empty>", LogSafe.id(null));
        assertEquals("", LogSafe.text(null));
    }

    @Test
    void aStatusMessageQuotesARefusedValueEscaped() {
        String d = RequestChecks.invalid("session_id", "got '" + RequestChecks.abbreviate("bad\r\nid") + "'")
                .getStatus().getDescription();
        assertEquals("session_id: got 'bad\\r\\nid'", d);
    }
}

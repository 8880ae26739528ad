package dev.warmroute.cluster;

/**
 * Caller values as they may appear in a log line. A value that is not yet validated can be anything up to the
 * message size limit: newlines that forge a log line of their own, terminal escapes, megabytes of text. An id that
 * passes {@link ApiLimits#ID} is logged as it is (the common case costs one regex match); anything else is logged
 * escaped and cut to {@link #MAX_CHARS}, with its length, so a log reader sees that it was refused and what it
 * looked like, never what it would do to the log.
 */
public final class LogSafe {

    /** The most characters of an invalid value, or of a client-derived message, that reach a log line. */
    public static final int MAX_CHARS = 64;

    /** The most characters of a status description (which quotes at most an abbreviated value) in a log line. */
    public static final int MAX_MESSAGE_CHARS = 400;

    private LogSafe() {}

    /** A session or request id: itself when valid, otherwise escaped, cut and marked. */
    public static String id(String value) {
        if (value == null || value.isEmpty()) {
            return "<empty>";
        }
        if (ApiLimits.ID.matcher(value).matches()) {
            return value;
        }
        return "<invalid " + value.length() + " chars: \"" + escape(value, MAX_CHARS) + "\">";
    }

    /** Free text (a status description that may quote a client's value): escaped and cut. */
    public static String text(String value) {
        return value == null ? "" : escape(value, MAX_MESSAGE_CHARS);
    }

    /**
     * Printable ASCII stays; a backslash, a quote, control characters and everything outside ASCII become
     * {@code \\n}, {@code \\"}, {@code \\uXXXX}: one line, whatever the terminal or the log shipper.
     */
    static String escape(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 8);
        int i = 0;
        for (; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        b.append(c);
                    } else {
                        b.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        if (i < s.length()) {
            b.append("...");
        }
        return b.toString();
    }
}

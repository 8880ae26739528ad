package dev.warmroute.cluster.store;

import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.StoredSettings;
import dev.warmroute.cluster.session.Turn;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL of a session: one row in {@code warmroute_session} and one per turn in {@code warmroute_turn}, keyed by
 * (session id, turn index). Portable between H2 and PostgreSQL (no vendor upsert: the session row is locked with
 * {@code SELECT ... FOR UPDATE} and turns are inserted under that lock). Runs inside the caller's transaction.
 */
final class SessionRows {

    private SessionRows() {}

    /** What {@link #store} did. {@code rewound} counts stored turns that the record did not have (see there). */
    record Written(int inserted, int rewound, boolean replaced) {}

    private static final String SESSION_COLUMNS = "session_id, incarnation, create_digest, owner, model_id,"
            + " system_prompt, system_tokens, tokenizer_fingerprint, context_budget_tokens, pruning_policy,"
            + " low_watermark_percent, temperature, top_p, seed, max_tokens, window_start, version, create_time_ms,"
            + " update_time_ms";
    private static final String TURN_COLUMNS = "session_id, turn_index, request_id, attempt_id, user_text,"
            + " user_tokens, assistant_text, assistant_tokens, finish_reason, worker_id, prompt_tokens, create_time_ms";

    /** The session with every turn, or null. */
    static SessionRecord load(Connection c, String sessionId, int timeoutSeconds) throws SQLException {
        String incarnation;
        String digest;
        String owner;
        String modelId;
        String systemPrompt;
        int[] systemTokens;
        String fingerprint;
        StoredSettings settings;
        int windowStart;
        long version;
        long created;
        long updated;
        try (PreparedStatement s = c.prepareStatement("SELECT " + SESSION_COLUMNS
                + " FROM warmroute_session WHERE session_id = ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, sessionId);
            try (ResultSet r = s.executeQuery()) {
                if (!r.next()) {
                    return null;
                }
                incarnation = r.getString(2);
                digest = r.getString(3);
                owner = r.getString(4);
                modelId = r.getString(5);
                systemPrompt = r.getString(6);
                systemTokens = ints(r.getBytes(7));
                fingerprint = r.getString(8);
                settings = new StoredSettings(r.getInt(9), r.getInt(10), r.getInt(11), r.getFloat(12), r.getFloat(13),
                        r.getLong(14), r.getInt(15));
                windowStart = r.getInt(16);
                version = r.getLong(17);
                created = r.getLong(18);
                updated = r.getLong(19);
            }
        }
        List<Turn> turns = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT " + TURN_COLUMNS
                + " FROM warmroute_turn WHERE session_id = ? ORDER BY turn_index")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, sessionId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    turns.add(new Turn(r.getInt(2), r.getString(3), r.getString(4), r.getString(5), ints(r.getBytes(6)),
                            r.getString(7), ints(r.getBytes(8)), r.getInt(9), r.getString(10), r.getInt(11),
                            r.getLong(12)));
                }
            }
        }
        for (int i = 0; i < turns.size(); i++) {
            if (turns.get(i).index() != i) {
                throw new SQLException("session '" + sessionId + "': turn " + i + " is missing from the store (found "
                        + turns.get(i).index() + ")", "22000");
            }
        }
        if (turns.size() != version) {
            throw new SQLException("session '" + sessionId + "': the store holds " + turns.size()
                    + " turns but the session row says version " + version, "22000");
        }
        return new SessionRecord(sessionId, owner, modelId, systemPrompt, systemTokens, fingerprint, settings, turns,
                windowStart, version, created, updated, incarnation, digest);
    }

    /**
     * Makes the stored session equal to {@code record}, writing only what differs: normally one new turn row and the
     * session row's version. The in-memory record is what was acknowledged, so it wins: stored turns beyond the first
     * index where the two differ were written by a commit that failed after the store call (the member died before
     * answering, or the backup never acknowledged), were never acknowledged, and are replaced ({@code rewound}). A
     * record of another incarnation (the id was deleted and created again, and the delete never reached the store)
     * replaces the stored session whole. Writing the same record twice changes nothing.
     */
    static Written store(Connection c, SessionRecord record, int timeoutSeconds) throws SQLException {
        if (appendOne(c, record, timeoutSeconds)) {
            return new Written(1, 0, false);
        }
        String storedIncarnation = null;
        long storedVersion = 0;
        try (PreparedStatement s = c.prepareStatement(
                "SELECT incarnation, version FROM warmroute_session WHERE session_id = ? FOR UPDATE")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, record.sessionId());
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    storedIncarnation = r.getString(1);
                    storedVersion = r.getLong(2);
                }
            }
        }
        if (storedIncarnation == null) {
            insertSession(c, record, timeoutSeconds);
            insertTurns(c, record, 0, timeoutSeconds);
            return new Written(record.turns().size(), 0, false);
        }
        if (!storedIncarnation.equals(record.incarnation())) {
            deleteTurnsFrom(c, record.sessionId(), 0, timeoutSeconds);
            updateSession(c, record, true, timeoutSeconds);
            insertTurns(c, record, 0, timeoutSeconds);
            return new Written(record.turns().size(), (int) storedVersion, true);
        }
        int recordVersion = record.turns().size();
        int common = (int) Math.min(storedVersion, recordVersion);
        int from = Math.max(0, common - 1);
        Map<Integer, String> storedAttempts = attemptsFrom(c, record.sessionId(), from, timeoutSeconds);
        int firstDifferent = common;
        for (int i = from; i < common; i++) {
            if (!record.turns().get(i).attemptId().equals(storedAttempts.get(i))) {
                firstDifferent = i;
                break;
            }
        }
        if (firstDifferent == recordVersion && storedVersion == recordVersion) {
            return new Written(0, 0, false); // the same write again
        }
        int rewound = (int) storedVersion - firstDifferent;
        if (rewound > 0) {
            deleteTurnsFrom(c, record.sessionId(), firstDifferent, timeoutSeconds);
        }
        insertTurns(c, record, firstDifferent, timeoutSeconds);
        updateSession(c, record, false, timeoutSeconds);
        return new Written(recordVersion - firstDifferent, Math.max(0, rewound), false);
    }

    /**
     * The common case in two statements: the stored session is this incarnation at the version before the record's
     * last turn, so only that turn is new. The stored turns then are the record's others: every change of the record
     * went through {@link #store}, which leaves the database equal to the record; the one way they can differ (a store
     * call that succeeded for a commit that then failed) leaves the stored version ahead, which this guard refuses.
     * The UPDATE locks the row, so a concurrent writer of the same session waits.
     */
    private static boolean appendOne(Connection c, SessionRecord r, int timeoutSeconds) throws SQLException {
        int n = r.turns().size();
        if (n == 0) {
            return false;
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE warmroute_session SET window_start = ?, version = ?,"
                + " update_time_ms = ? WHERE session_id = ? AND incarnation = ? AND version = ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setInt(1, r.windowStart());
            s.setLong(2, r.version());
            s.setLong(3, r.updateTimeMs());
            s.setString(4, r.sessionId());
            s.setString(5, r.incarnation());
            s.setLong(6, n - 1L);
            if (s.executeUpdate() != 1) {
                return false;
            }
        }
        insertTurns(c, r, n - 1, timeoutSeconds);
        return true;
    }

    /** Deletes the session and its turns; true when there was one. */
    static boolean delete(Connection c, String sessionId, int timeoutSeconds) throws SQLException {
        deleteTurnsFrom(c, sessionId, 0, timeoutSeconds);
        try (PreparedStatement s = c.prepareStatement("DELETE FROM warmroute_session WHERE session_id = ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, sessionId);
            return s.executeUpdate() > 0;
        }
    }

    /** Sessions of {@code owner} (from the owner index), or of everyone when {@code owner} is null. */
    static long count(Connection c, String owner, int timeoutSeconds) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM warmroute_session"
                + (owner == null ? "" : " WHERE owner = ?"))) {
            s.setQueryTimeout(timeoutSeconds);
            if (owner != null) {
                s.setString(1, owner);
            }
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    /**
     * One page of an owner's session ids, most recently updated first (then by id), after the cursor
     * ({@code afterTimeMs}, {@code afterId}; {@code afterId} null for the first page): a keyset query, so a page
     * costs the same whichever it is and nothing before the cursor is read.
     */
    static List<String> pageByOwner(Connection c, String owner, long afterTimeMs, String afterId, int limit,
            int timeoutSeconds) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT session_id FROM warmroute_session WHERE owner = ?"
                + (afterId == null ? "" : " AND (update_time_ms < ? OR (update_time_ms = ? AND session_id > ?))")
                + " ORDER BY update_time_ms DESC, session_id ASC")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setMaxRows(limit);
            s.setString(1, owner);
            if (afterId != null) {
                s.setLong(2, afterTimeMs);
                s.setLong(3, afterTimeMs);
                s.setString(4, afterId);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    ids.add(r.getString(1));
                }
            }
        }
        return ids;
    }

    private static Map<Integer, String> attemptsFrom(Connection c, String sessionId, int from, int timeoutSeconds)
            throws SQLException {
        Map<Integer, String> out = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT turn_index, attempt_id FROM warmroute_turn WHERE session_id = ? AND turn_index >= ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, sessionId);
            s.setInt(2, from);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.put(r.getInt(1), r.getString(2));
                }
            }
        }
        return out;
    }

    private static void insertSession(Connection c, SessionRecord r, int timeoutSeconds) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO warmroute_session (" + SESSION_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setQueryTimeout(timeoutSeconds);
            StoredSettings st = r.settings();
            s.setString(1, r.sessionId());
            s.setString(2, r.incarnation());
            s.setString(3, r.createDigest());
            s.setString(4, r.owner());
            s.setString(5, r.modelId());
            s.setString(6, r.systemPrompt());
            s.setBytes(7, bytes(r.systemTokens()));
            s.setString(8, r.tokenizerFingerprint());
            s.setInt(9, st.contextBudgetTokens());
            s.setInt(10, st.pruningPolicy());
            s.setInt(11, st.lowWatermarkPercent());
            s.setFloat(12, st.temperature());
            s.setFloat(13, st.topP());
            s.setLong(14, st.seed());
            s.setInt(15, st.maxTokens());
            s.setInt(16, r.windowStart());
            s.setLong(17, r.version());
            s.setLong(18, r.createTimeMs());
            s.setLong(19, r.updateTimeMs());
            s.executeUpdate();
        }
    }

    /** The moving parts (window, version, update time); {@code whole}: every column (a new incarnation). */
    private static void updateSession(Connection c, SessionRecord r, boolean whole, int timeoutSeconds)
            throws SQLException {
        if (whole) {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM warmroute_session WHERE session_id = ?")) {
                s.setQueryTimeout(timeoutSeconds);
                s.setString(1, r.sessionId());
                s.executeUpdate();
            }
            insertSession(c, r, timeoutSeconds);
            return;
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE warmroute_session SET window_start = ?, version = ?,"
                + " update_time_ms = ? WHERE session_id = ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setInt(1, r.windowStart());
            s.setLong(2, r.version());
            s.setLong(3, r.updateTimeMs());
            s.setString(4, r.sessionId());
            s.executeUpdate();
        }
    }

    private static void insertTurns(Connection c, SessionRecord r, int from, int timeoutSeconds) throws SQLException {
        if (from >= r.turns().size()) {
            return;
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO warmroute_turn (" + TURN_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setQueryTimeout(timeoutSeconds);
            for (int i = from; i < r.turns().size(); i++) {
                Turn t = r.turns().get(i);
                s.setString(1, r.sessionId());
                s.setInt(2, t.index());
                s.setString(3, t.requestId());
                s.setString(4, t.attemptId());
                s.setString(5, t.userText());
                s.setBytes(6, bytes(t.userTokens()));
                s.setString(7, t.assistantText());
                s.setBytes(8, bytes(t.assistantTokens()));
                s.setInt(9, t.finishReason());
                s.setString(10, t.workerId());
                s.setInt(11, t.promptTokens());
                s.setLong(12, t.createTimeMs());
                if (r.turns().size() - from == 1) {
                    s.executeUpdate();
                } else {
                    s.addBatch();
                }
            }
            if (r.turns().size() - from > 1) {
                s.executeBatch();
            }
        }
    }

    private static void deleteTurnsFrom(Connection c, String sessionId, int from, int timeoutSeconds)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "DELETE FROM warmroute_turn WHERE session_id = ? AND turn_index >= ?")) {
            s.setQueryTimeout(timeoutSeconds);
            s.setString(1, sessionId);
            s.setInt(2, from);
            s.executeUpdate();
        }
    }

    /** Token ids as 4 bytes each, big-endian. */
    static byte[] bytes(int[] ids) {
        ByteBuffer b = ByteBuffer.allocate(ids.length * Integer.BYTES);
        b.asIntBuffer().put(ids);
        return b.array();
    }

    static int[] ints(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return new int[0];
        }
        if (bytes.length % Integer.BYTES != 0) {
            throw new IllegalStateException("a token list of " + bytes.length + " bytes (not a multiple of 4)");
        }
        int[] out = new int[bytes.length / Integer.BYTES];
        ByteBuffer.wrap(bytes).asIntBuffer().get(out);
        return out;
    }
}

package dev.warmroute.cluster.session;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A chat session as stored in the {@code sessions} map: everything a worker needs to rebuild the exact prompt of the
 * next turn without any cache (system prompt and turns as token ids, the tokenizer they were made with, the window
 * start), plus the version used for optimistic concurrency between workers.
 *
 * <p>Immutable: an update makes a new record ({@link #withTurn}), which is what the commit entry processor stores.
 *
 * @param sessionId            the key
 * @param owner                the identity that created it; indexed, for ListSessions
 * @param modelId              the model that serves the session
 * @param systemPrompt         possibly empty
 * @param systemTokens         the system prompt's content token ids
 * @param tokenizerFingerprint fingerprint of the tokenizer every stored id list was made with
 * @param settings             resolved settings
 * @param turns                committed turns, oldest first; turn i has index i
 * @param windowStart          first turn inside the prompt window
 * @param version              number of committed turns (0 for a new session)
 * @param createTimeMs         creation time (epoch ms)
 * @param updateTimeMs         last commit (creation time for a new session)
 * @param incarnation          random id of this creation of the session: a turn computed on a session that was deleted
 *                             and created again under the same id carries the old incarnation and is refused
 *                             ({@link CommitTurn}), although the versions may match (delete/re-create ABA)
 * @param createDigest         digest of what the client asked for when creating it (owner, system prompt, settings as
 *                             sent): a retried CreateSession with the same digest is the same request and gets this
 *                             session back instead of ALREADY_EXISTS (empty: not known)
 */
public record SessionRecord(
        String sessionId,
        String owner,
        String modelId,
        String systemPrompt,
        int[] systemTokens,
        String tokenizerFingerprint,
        StoredSettings settings,
        List<Turn> turns,
        int windowStart,
        long version,
        long createTimeMs,
        long updateTimeMs,
        String incarnation,
        String createDigest) {

    public SessionRecord {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(settings, "settings");
        modelId = modelId == null ? "" : modelId;
        systemPrompt = systemPrompt == null ? "" : systemPrompt;
        systemTokens = systemTokens == null ? new int[0] : systemTokens;
        tokenizerFingerprint = tokenizerFingerprint == null ? "" : tokenizerFingerprint;
        turns = List.copyOf(turns);
        incarnation = incarnation == null || incarnation.isEmpty() ? newIncarnation() : incarnation;
        createDigest = createDigest == null ? "" : createDigest;
        if (version != turns.size()) {
            throw new IllegalArgumentException("version " + version + " != turns " + turns.size());
        }
        if (windowStart < 0 || windowStart > turns.size()) {
            throw new IllegalArgumentException("window start " + windowStart + " outside [0, " + turns.size() + "]");
        }
    }

    /** A record with a fresh incarnation and no create digest (copies, tests). */
    public SessionRecord(String sessionId, String owner, String modelId, String systemPrompt, int[] systemTokens,
            String tokenizerFingerprint, StoredSettings settings, List<Turn> turns, int windowStart, long version,
            long createTimeMs, long updateTimeMs) {
        this(sessionId, owner, modelId, systemPrompt, systemTokens, tokenizerFingerprint, settings, turns, windowStart,
                version, createTimeMs, updateTimeMs, newIncarnation(), "");
    }

    /** A new session without turns, with a fresh incarnation and no create digest. */
    public static SessionRecord create(String sessionId, String owner, String modelId, String systemPrompt,
            int[] systemTokens, String tokenizerFingerprint, StoredSettings settings, long nowMs) {
        return create(sessionId, owner, modelId, systemPrompt, systemTokens, tokenizerFingerprint, settings, nowMs,
                "");
    }

    /** A new session without turns and with a fresh incarnation; {@code createDigest} identifies the request. */
    public static SessionRecord create(String sessionId, String owner, String modelId, String systemPrompt,
            int[] systemTokens, String tokenizerFingerprint, StoredSettings settings, long nowMs,
            String createDigest) {
        return new SessionRecord(sessionId, owner, modelId, systemPrompt, systemTokens, tokenizerFingerprint,
                settings, List.of(), 0, 0, nowMs, nowMs, newIncarnation(), createDigest);
    }

    /** A random incarnation id. */
    public static String newIncarnation() {
        return java.util.UUID.randomUUID().toString();
    }

    /** True when {@code other} is this session's history or an extension of it (same incarnation, same turns). */
    public boolean isPrefixOf(SessionRecord other) {
        if (other == null || !incarnation.equals(other.incarnation) || other.turns.size() < turns.size()) {
            return false;
        }
        for (int i = 0; i < turns.size(); i++) {
            Turn a = turns.get(i);
            Turn b = other.turns.get(i);
            if (!a.requestId().equals(b.requestId()) || !a.attemptId().equals(b.attemptId())) {
                return false;
            }
        }
        return true;
    }

    /** The committed turn with this request id, or null. */
    public Turn findTurn(String requestId) {
        for (Turn t : turns) {
            if (t.requestId().equals(requestId)) {
                return t;
            }
        }
        return null;
    }

    /** This record with {@code turn} appended (its index must be the current version) and the window moved. */
    public SessionRecord withTurn(Turn turn, int newWindowStart, long nowMs) {
        if (turn.index() != version) {
            throw new IllegalArgumentException("turn index " + turn.index() + " != version " + version);
        }
        if (newWindowStart < windowStart || newWindowStart > turns.size() + 1) {
            throw new IllegalArgumentException("window start " + newWindowStart + " outside [" + windowStart + ", "
                    + (turns.size() + 1) + "]");
        }
        List<Turn> next = new ArrayList<>(turns.size() + 1);
        next.addAll(turns);
        next.add(turn);
        return new SessionRecord(sessionId, owner, modelId, systemPrompt, systemTokens, tokenizerFingerprint,
                settings, next, newWindowStart, version + 1, createTimeMs, nowMs, incarnation, createDigest);
    }

    @Override
    public String toString() {
        return "SessionRecord[" + sessionId + " owner=" + owner + " version=" + version + " window=" + windowStart
                + " incarnation=" + incarnation + "]";
    }

    /** Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. */
    public static final class Serializer implements CompactSerializer<SessionRecord> {
        @Override
        public SessionRecord read(CompactReader in) {
            Turn[] turns = in.readArrayOfCompact("turns", Turn.class);
            return new SessionRecord(in.readString("sessionId"), in.readString("owner"), in.readString("modelId"),
                    in.readString("systemPrompt"), in.readArrayOfInt32("systemTokens"),
                    in.readString("tokenizerFingerprint"), in.readCompact("settings"),
                    turns == null ? List.of() : List.of(turns), in.readInt32("windowStart"), in.readInt64("version"),
                    in.readInt64("createTimeMs"), in.readInt64("updateTimeMs"), optionalString(in, "incarnation"),
                    optionalString(in, "createDigest"));
        }

        @Override
        public void write(CompactWriter out, SessionRecord r) {
            out.writeString("sessionId", r.sessionId());
            // "owner" is the indexed attribute ListSessions queries (see ClusterMaps).
            out.writeString("owner", r.owner());
            out.writeString("modelId", r.modelId());
            out.writeString("systemPrompt", r.systemPrompt());
            out.writeArrayOfInt32("systemTokens", r.systemTokens());
            out.writeString("tokenizerFingerprint", r.tokenizerFingerprint());
            out.writeCompact("settings", r.settings());
            out.writeArrayOfCompact("turns", r.turns().toArray(new Turn[0]));
            out.writeInt32("windowStart", r.windowStart());
            out.writeInt64("version", r.version());
            out.writeInt64("createTimeMs", r.createTimeMs());
            out.writeInt64("updateTimeMs", r.updateTimeMs());
            out.writeString("incarnation", r.incarnation());
            out.writeString("createDigest", r.createDigest());
        }

        /** Fields added after the first schema: absent in records written by older members. */
        private static String optionalString(CompactReader in, String field) {
            return in.getFieldKind(field) == com.hazelcast.nio.serialization.FieldKind.STRING
                    ? in.readString(field) : "";
        }

        @Override
        public String getTypeName() {
            return "warmroute.SessionRecord";
        }

        @Override
        public Class<SessionRecord> getCompactClass() {
            return SessionRecord.class;
        }
    }
}

package dev.warmroute.cluster.session;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.Map;

/**
 * Appends a turn to a session record, atomically on the partition that owns it, if and only if the record is still
 * at the version the turn was built on and the request id is new.
 *
 * <p>Idempotent by construction: Hazelcast may run a processor twice (a member leaving mid-call makes the caller
 * retry on the new owner, which may already hold the first run's result through its backup). The request id is
 * checked before the version, so a second run finds the turn it appended and answers {@link
 * CommitResult.Outcome#ALREADY_COMMITTED} with the stored turn instead of a version conflict. Every value the
 * processor writes comes from its fields (no clock read inside), so the backup replica, which runs the same
 * processor, stores the same record.
 *
 * <p>This class runs inside Hazelcast members: a standalone member holding the {@code sessions} map needs it (and
 * the records' serializers) on its classpath, i.e. the warmroute-cluster jar.
 */
public final class CommitTurn implements EntryProcessor<String, SessionRecord, CommitResult> {

    private static final long serialVersionUID = 1L;

    private final long expectedVersion;
    private final int newWindowStart;
    private final long nowMs;
    private final Turn turn;
    /** The incarnation the turn was built on; empty: not checked. */
    private final String expectedIncarnation;

    public CommitTurn(long expectedVersion, int newWindowStart, long nowMs, Turn turn) {
        this(expectedVersion, newWindowStart, nowMs, turn, "");
    }

    /**
     * @param expectedIncarnation the incarnation of the record the turn was built on: a session deleted and created
     *                            again meanwhile has another one, and the turn is refused as {@code MISSING}
     */
    public CommitTurn(long expectedVersion, int newWindowStart, long nowMs, Turn turn, String expectedIncarnation) {
        if (turn.index() != expectedVersion) {
            throw new IllegalArgumentException("turn index " + turn.index() + " != expected version " + expectedVersion);
        }
        this.expectedVersion = expectedVersion;
        this.newWindowStart = newWindowStart;
        this.nowMs = nowMs;
        this.turn = turn;
        this.expectedIncarnation = expectedIncarnation == null ? "" : expectedIncarnation;
    }

    @Override
    public CommitResult process(Map.Entry<String, SessionRecord> entry) {
        SessionRecord record = entry.getValue();
        if (record == null) {
            return new CommitResult(CommitResult.Outcome.MISSING, -1, null);
        }
        if (!expectedIncarnation.isEmpty() && !expectedIncarnation.equals(record.incarnation())) {
            // Deleted and created again while the turn ran: the turn belongs to a session that no longer exists.
            return new CommitResult(CommitResult.Outcome.MISSING, record.version(), null);
        }
        Turn existing = record.findTurn(turn.requestId());
        if (existing != null) {
            return new CommitResult(CommitResult.Outcome.ALREADY_COMMITTED, record.version(), existing);
        }
        if (record.version() != expectedVersion) {
            return new CommitResult(CommitResult.Outcome.VERSION_CONFLICT, record.version(), null);
        }
        SessionRecord next = record.withTurn(turn, newWindowStart, nowMs);
        entry.setValue(next);
        return new CommitResult(CommitResult.Outcome.COMMITTED, next.version(), null);
    }

    public Turn turn() {
        return turn;
    }

    /** Explicit Compact serializer (the processor travels to the partition owner and its backup). */
    public static final class Serializer implements CompactSerializer<CommitTurn> {
        @Override
        public CommitTurn read(CompactReader in) {
            return new CommitTurn(in.readInt64("expectedVersion"), in.readInt32("newWindowStart"),
                    in.readInt64("nowMs"), in.readCompact("turn"),
                    in.getFieldKind("expectedIncarnation") == com.hazelcast.nio.serialization.FieldKind.STRING
                            ? in.readString("expectedIncarnation") : "");
        }

        @Override
        public void write(CompactWriter out, CommitTurn p) {
            out.writeInt64("expectedVersion", p.expectedVersion);
            out.writeInt32("newWindowStart", p.newWindowStart);
            out.writeInt64("nowMs", p.nowMs);
            out.writeCompact("turn", p.turn);
            out.writeString("expectedIncarnation", p.expectedIncarnation);
        }

        @Override
        public String getTypeName() {
            return "warmroute.CommitTurn";
        }

        @Override
        public Class<CommitTurn> getCompactClass() {
            return CommitTurn.class;
        }
    }
}

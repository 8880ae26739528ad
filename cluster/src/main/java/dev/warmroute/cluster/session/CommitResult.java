package dev.warmroute.cluster.session;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * What {@link CommitTurn} found.
 *
 * @param outcome  what happened
 * @param version  the record's version after the call (for a conflict: the version another writer left)
 * @param turn     for {@link Outcome#ALREADY_COMMITTED}: the stored turn with that request id; else null
 */
public record CommitResult(Outcome outcome, long version, Turn turn) {

    public enum Outcome {
        /** The turn was appended. */
        COMMITTED,
        /** A turn with this request id is already stored (a retry, or Hazelcast re-running the processor). */
        ALREADY_COMMITTED,
        /** Another turn was committed since the caller read the record: nothing written. */
        VERSION_CONFLICT,
        /** The session does not exist (deleted or expired): nothing written. */
        MISSING
    }

    /** Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. */
    public static final class Serializer implements CompactSerializer<CommitResult> {
        @Override
        public CommitResult read(CompactReader in) {
            return new CommitResult(Outcome.valueOf(in.readString("outcome")), in.readInt64("version"),
                    in.readCompact("turn"));
        }

        @Override
        public void write(CompactWriter out, CommitResult r) {
            out.writeString("outcome", r.outcome().name());
            out.writeInt64("version", r.version());
            out.writeCompact("turn", r.turn());
        }

        @Override
        public String getTypeName() {
            return "warmroute.CommitResult";
        }

        @Override
        public Class<CommitResult> getCompactClass() {
            return CommitResult.class;
        }
    }
}

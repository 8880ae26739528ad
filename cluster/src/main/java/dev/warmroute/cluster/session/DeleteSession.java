package dev.warmroute.cluster.session;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.Map;

/**
 * Removes a session if it belongs to {@code owner}; answers whether it did. Checking the owner where the entry lives
 * makes "delete only your own session" one atomic step. Running it twice is harmless (the second run finds nothing).
 */
public final class DeleteSession implements EntryProcessor<String, SessionRecord, Boolean> {

    private static final long serialVersionUID = 1L;

    private final String owner;

    public DeleteSession(String owner) {
        this.owner = owner;
    }

    @Override
    public Boolean process(Map.Entry<String, SessionRecord> entry) {
        SessionRecord record = entry.getValue();
        if (record == null || !record.owner().equals(owner)) {
            return false;
        }
        entry.setValue(null);
        return true;
    }

    /** Explicit Compact serializer. */
    public static final class Serializer implements CompactSerializer<DeleteSession> {
        @Override
        public DeleteSession read(CompactReader in) {
            return new DeleteSession(in.readString("owner"));
        }

        @Override
        public void write(CompactWriter out, DeleteSession p) {
            out.writeString("owner", p.owner);
        }

        @Override
        public String getTypeName() {
            return "warmroute.DeleteSession";
        }

        @Override
        public Class<DeleteSession> getCompactClass() {
            return DeleteSession.class;
        }
    }
}

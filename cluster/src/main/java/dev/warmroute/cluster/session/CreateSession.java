package dev.warmroute.cluster.session;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.Map;

/**
 * Stores a new session record unless the key is taken; answers the record that is stored afterwards. The caller
 * compares it with its own: the same record means "created" (also when Hazelcast re-ran the processor and the second
 * run found the first run's record), another means the id was taken.
 */
public final class CreateSession implements EntryProcessor<String, SessionRecord, SessionRecord> {

    private static final long serialVersionUID = 1L;

    private final SessionRecord record;

    public CreateSession(SessionRecord record) {
        this.record = record;
    }

    @Override
    public SessionRecord process(Map.Entry<String, SessionRecord> entry) {
        SessionRecord existing = entry.getValue();
        if (existing != null) {
            return existing;
        }
        entry.setValue(record);
        return record;
    }

    /**
     * True when {@code stored} was created by this request: the record this processor writes, or, when the request
     * carries a create digest, the record an earlier attempt of the same request wrote (a retried CreateSession whose
     * first attempt landed: another worker, another create time, another server-chosen seed, but the same owner, system
     * prompt and settings as sent). The caller then answers with {@code stored}, not with its own record.
     */
    public boolean isOwn(SessionRecord stored) {
        if (stored == null || !stored.sessionId().equals(record.sessionId()) || !stored.owner().equals(record.owner())) {
            return false;
        }
        if (stored.incarnation().equals(record.incarnation())) {
            return true;
        }
        return !record.createDigest().isEmpty() && record.createDigest().equals(stored.createDigest())
                && stored.modelId().equals(record.modelId());
    }

    /** Explicit Compact serializer. */
    public static final class Serializer implements CompactSerializer<CreateSession> {
        @Override
        public CreateSession read(CompactReader in) {
            return new CreateSession(in.readCompact("record"));
        }

        @Override
        public void write(CompactWriter out, CreateSession p) {
            out.writeCompact("record", p.record);
        }

        @Override
        public String getTypeName() {
            return "warmroute.CreateSession";
        }

        @Override
        public Class<CreateSession> getCompactClass() {
            return CreateSession.class;
        }
    }
}

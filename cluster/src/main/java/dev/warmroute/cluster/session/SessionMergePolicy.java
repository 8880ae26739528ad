package dev.warmroute.cluster.session;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a healed split brain merges the {@code sessions} map: never drop an acknowledged turn. Hazelcast's default
 * (PutIfAbsent) keeps the larger side's record and discards every turn committed on the smaller side.
 *
 * <p>Hazelcast calls {@link #merge} on the larger side for each entry the smaller side held: {@code merging} comes from
 * the smaller side, {@code existing} is the larger side's. The rules:
 * <ul>
 *   <li>only one side has the session: keep it;
 *   <li>one history is a prefix of the other (same incarnation, the same turns by index, request id and attempt id):
 *       keep the longer one, which holds every turn either side acknowledged;
 *   <li>anything else is a divergence (both sides committed a different turn at the same index, or the id was
 *       deleted and created again on one side): keep the larger side's record, log both and count it. Split-brain
 *       protection makes it impossible in practice: the smaller side refuses writes (a quorum of the configured cluster
 *       size), so its extra turns were never acknowledged.
 * </ul>
 * The record kept is written through to the store, which rewinds turns the record does not have.
 *
 * <p>Runs on members (it is named by class in the map's merge policy config); no fields.
 */
public final class SessionMergePolicy
        implements SplitBrainMergePolicy<SessionRecord, MergingValue<SessionRecord>, Object> {

    private static final Logger log = LoggerFactory.getLogger(SessionMergePolicy.class);
    private static final AtomicLong DIVERGENCES = new AtomicLong();
    private static final AtomicLong MERGED = new AtomicLong();

    /** Divergent histories seen by merges in this process (a metric: should stay 0). */
    public static long divergences() {
        return DIVERGENCES.get();
    }

    /** Entries merged by this process (both sides held the session, or only the smaller side). */
    public static long merged() {
        return MERGED.get();
    }

    @Override
    public Object merge(MergingValue<SessionRecord> merging, MergingValue<SessionRecord> existing) {
        if (merging == null) {
            return existing == null ? null : existing.getRawValue();
        }
        MERGED.incrementAndGet();
        if (existing == null) {
            return merging.getRawValue();
        }
        SessionRecord theirs = merging.getDeserializedValue();
        SessionRecord ours = existing.getDeserializedValue();
        Choice c = choose(theirs, ours);
        if (c == Choice.DIVERGED) {
            DIVERGENCES.incrementAndGet();
            log.error("merge.divergence session={} kept={} (larger side) dropped={} (smaller side): the two sides"
                    + " committed different turns; the smaller side's were never acknowledged under split-brain"
                    + " protection", ours.sessionId(), ours, theirs);
            return existing.getRawValue();
        }
        if (c == Choice.MERGING) {
            log.info("merge.session session={} kept=smaller-side version={} (the larger side had {})",
                    theirs.sessionId(), theirs.version(), ours.version());
            return merging.getRawValue();
        }
        return existing.getRawValue();
    }

    /** Which record survives. */
    public enum Choice { EXISTING, MERGING, DIVERGED }

    /** The rules above, on two records of the same id ({@code merging}: the smaller side's). */
    public static Choice choose(SessionRecord merging, SessionRecord existing) {
        if (existing.isPrefixOf(merging)) {
            return merging.version() > existing.version() ? Choice.MERGING : Choice.EXISTING;
        }
        if (merging.isPrefixOf(existing)) {
            return Choice.EXISTING;
        }
        return Choice.DIVERGED;
    }

    @Override
    public void writeData(ObjectDataOutput out) {
        // no state
    }

    @Override
    public void readData(ObjectDataInput in) {
        // no state
    }
}

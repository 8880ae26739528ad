package dev.warmroute.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.IndexType;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MapStoreConfig;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.spi.merge.PutIfAbsentMergePolicy;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import dev.warmroute.cluster.session.SessionMergePolicy;
import dev.warmroute.cluster.store.SessionMapStore;

/**
 * The distributed maps of a warmroute cluster and their configuration. Members hold the data, so the configuration
 * is applied where members start (workers, or {@code warmroute member}); clients only use the names.
 */
public final class ClusterMaps {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterMaps.class);

    /** Session id → session record (history, settings, window start, version). Written by workers. */
    public static final String SESSIONS = "sessions";
    /** Session id → binding {worker id, epoch}. Written by routers with compare-and-set. */
    public static final String BINDINGS = "bindings";
    /** Worker id → registration {address, capacity, model, member}. Refreshed by workers' heartbeats. */
    public static final String WORKERS = "workers";
    /** Operator and cluster-wide flags: drained workers, the internal credential. */
    public static final String CONTROL = "warmroute-control";
    /** Key prefix in {@link #CONTROL} of a drained worker's flag: {@code drain/<worker id>} → who drained it, when. */
    public static final String DRAIN_PREFIX = "drain/";

    /** Split-brain protection of {@link #SESSIONS}: reads and writes need a quorum of the configured cluster size. */
    public static final String SESSIONS_QUORUM = "warmroute-sessions-quorum";
    /** Split-brain protection of {@link #BINDINGS}: writes need the quorum (reads of a stale binding are harmless). */
    public static final String BINDINGS_QUORUM = "warmroute-bindings-quorum";

    private ClusterMaps() {}

    /** Adds the map configurations, without a store behind the sessions map (history in memory only). */
    public static void configure(Config config, HazelcastSettings settings) {
        configure(config, settings, null);
    }

    /**
     * Adds the map configurations. Sessions are read and updated in place by entry processors, so they are stored
     * as objects (OBJECT format: no deserialisation per processor run) with synchronous backups, so that an
     * acknowledged turn survives the loss of its primary member; with a {@code store}, written through to it as
     * well (a turn is acknowledged once the database has it) and loaded lazily from it.
     *
     * <p>With a configured cluster size above 1, the session and binding maps refuse work on a side of a split brain
     * that holds fewer than a quorum ({@link HazelcastSettings#quorum()}) of the members: such a side could otherwise
     * acknowledge turns that the merge after the heal must choose between. The merge itself keeps the longer of two
     * consistent histories ({@link SessionMergePolicy}).
     */
    public static void configure(Config config, HazelcastSettings settings, SessionMapStore store) {
        int quorum = settings.quorum();
        MapConfig sessions = new MapConfig(SESSIONS)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0)
                .setReadBackupData(false)
                .setMaxIdleSeconds(clampSeconds(settings.sessionMaxIdle().toSeconds()))
                .addIndexConfig(new com.hazelcast.config.IndexConfig(IndexType.HASH, "owner"))
                .setMergePolicyConfig(new MergePolicyConfig(SessionMergePolicy.class.getName(), 100));
        if (store != null) {
            // Write-through (delay 0): store() runs inside the commit, before the record is kept or backed up.
            // LAZY with loadAllKeys() == null: no initial load; a session is read from the store on its first get.
            // An idle session expiring from memory stays in the store (expiry never calls delete).
            sessions.setMapStoreConfig(new MapStoreConfig().setEnabled(true).setImplementation(store)
                    .setWriteDelaySeconds(0).setInitialLoadMode(MapStoreConfig.InitialLoadMode.LAZY));
        }
        MapConfig bindings = new MapConfig(BINDINGS)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0)
                .setMaxIdleSeconds(clampSeconds(settings.sessionMaxIdle().toSeconds()))
                // A binding is a placement hint (the session's history is elsewhere): after a heal the larger side's
                // binding stands, and one only the smaller side had is added. Written down rather than left default.
                .setMergePolicyConfig(new MergePolicyConfig(PutIfAbsentMergePolicy.class.getName(), 100));
        if (settings.clusterSize() == 2) {
            log.warn("cluster.quorum size=2 quorum=2: a majority of two is both members, so the loss of either stops"
                    + " session reads and writes on the other; use an odd cluster size (3 or more), or 1 for none");
        }
        if (quorum > 1) {
            config.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(SESSIONS_QUORUM, true, quorum)
                    .setProtectOn(SplitBrainProtectionOn.READ_WRITE));
            config.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(BINDINGS_QUORUM, true, quorum)
                    .setProtectOn(SplitBrainProtectionOn.WRITE));
            sessions.setSplitBrainProtectionName(SESSIONS_QUORUM);
            bindings.setSplitBrainProtectionName(BINDINGS_QUORUM);
        }
        config.addMapConfig(sessions);
        config.addMapConfig(bindings);
        config.addMapConfig(new MapConfig(WORKERS)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0));
        config.addMapConfig(new MapConfig(CONTROL)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0));
    }

    private static int clampSeconds(long seconds) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, seconds));
    }
}

package dev.warmroute.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.IndexType;
import com.hazelcast.config.MapConfig;

/**
 * The distributed maps of a warmroute cluster and their configuration. Members hold the data, so the configuration
 * is applied where members start (workers, or {@code warmroute member}); clients only use the names.
 */
public final class ClusterMaps {

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

    private ClusterMaps() {}

    /**
     * Adds the map configurations. Sessions are read and updated in place by entry processors, so they are stored
     * as objects (OBJECT format: no deserialisation per processor run) with synchronous backups, so that an
     * acknowledged turn survives the loss of its primary member.
     */
    public static void configure(Config config, HazelcastSettings settings) {
        config.addMapConfig(new MapConfig(SESSIONS)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0)
                .setReadBackupData(false)
                .setMaxIdleSeconds(clampSeconds(settings.sessionMaxIdle().toSeconds()))
                .addIndexConfig(new com.hazelcast.config.IndexConfig(IndexType.HASH, "owner")));
        config.addMapConfig(new MapConfig(BINDINGS)
                .setBackupCount(settings.backupCount())
                .setAsyncBackupCount(0)
                .setMaxIdleSeconds(clampSeconds(settings.sessionMaxIdle().toSeconds())));
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

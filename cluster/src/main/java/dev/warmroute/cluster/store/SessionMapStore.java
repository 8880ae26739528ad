package dev.warmroute.cluster.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.MapLoaderLifecycleSupport;
import com.hazelcast.map.MapStore;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.session.SessionRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code sessions} map's MapStore, write-through: Hazelcast calls {@link #store} on the partition owner inside the
 * commit's entry processor, before the new record is kept in memory or sent to the backup, and a store that throws
 * fails the commit. So a turn is acknowledged only once the database has it (and nothing the database refused is
 * kept). Sessions are loaded lazily, one at a time on first read ({@link #loadAllKeys} returns null: no initial
 * load), so a restarted cluster starts at once and pulls in only the sessions that come back.
 *
 * <p>Failures are classified ({@link StoreErrors}): a database that is away becomes {@link StoreUnavailableException}
 * (the caller answers UNAVAILABLE naming the store), anything else {@link StoreFailureException} with an error id in
 * the log (INTERNAL, no retry). A probe keeps {@link StoreHealth} true to the database between calls, so the health
 * service turns SERVING again within a second of the store's return.
 */
public final class SessionMapStore implements MapStore<String, SessionRecord>, MapLoaderLifecycleSupport {

    private static final Logger log = LoggerFactory.getLogger(SessionMapStore.class);

    private final SessionDatabase db;
    private final StoreHealth health;
    private final int queryTimeoutSeconds;
    private final ScheduledExecutorService probe;

    public SessionMapStore(SessionDatabase db) {
        this.db = db;
        this.health = new StoreHealth(db.describe());
        this.queryTimeoutSeconds = (int) Math.max(1, db.settings().queryTimeout().toSeconds());
        this.probe = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "store-probe");
            t.setDaemon(true);
            return t;
        });
        probe.scheduleWithFixedDelay(this::probe, 1, 1, TimeUnit.SECONDS);
    }

    public StoreHealth health() {
        return health;
    }

    public SessionDatabase database() {
        return db;
    }

    @Override
    public void init(HazelcastInstance hazelcastInstance, Properties properties, String mapName) {
        log.info("store.attached map={} store=\"{}\"", mapName, db.describe());
    }

    @Override
    public void destroy() {
        // The member is going: the pool closes with it (WorkerServer / member command own the database).
        probe.shutdownNow();
    }

    @Override
    public SessionRecord load(String key) {
        return call("read of session " + key, c -> SessionRows.load(c, key, queryTimeoutSeconds), true);
    }

    @Override
    public Map<String, SessionRecord> loadAll(Collection<String> keys) {
        return call("read of " + keys.size() + " sessions", c -> {
            Map<String, SessionRecord> out = new HashMap<>();
            for (String k : keys) {
                SessionRecord r = SessionRows.load(c, k, queryTimeoutSeconds);
                if (r != null) {
                    out.put(k, r);
                }
            }
            return out;
        }, true);
    }

    /** Lazy loading: nothing is loaded when the map starts. */
    @Override
    public Iterable<String> loadAllKeys() {
        return null;
    }

    @Override
    public void store(String key, SessionRecord value) {
        SessionRows.Written w = call("write of session " + key + " version " + value.version(), c -> {
            SessionRows.Written written = SessionRows.store(c, value, queryTimeoutSeconds);
            c.commit();
            return written;
        }, false);
        if (w.rewound() > 0 || w.replaced()) {
            log.warn("store.rewound session={} version={} replaced_turns={} new_incarnation={}: the store held turns"
                    + " that were never acknowledged", key, value.version(), w.rewound(), w.replaced());
        }
    }

    @Override
    public void storeAll(Map<String, SessionRecord> map) {
        call("write of " + map.size() + " sessions", c -> {
            for (SessionRecord r : map.values()) {
                SessionRows.store(c, r, queryTimeoutSeconds);
            }
            c.commit();
            return null;
        }, false);
    }

    @Override
    public void delete(String key) {
        call("delete of session " + key, c -> {
            SessionRows.delete(c, key, queryTimeoutSeconds);
            c.commit();
            return null;
        }, false);
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        call("delete of " + keys.size() + " sessions", c -> {
            for (String k : keys) {
                SessionRows.delete(c, k, queryTimeoutSeconds);
            }
            c.commit();
            return null;
        }, false);
    }

    /** One page of an owner's session ids after a cursor, most recent first ({@link SessionRows#pageByOwner}). */
    public List<String> pageByOwner(String owner, long afterTimeMs, String afterId, int limit) {
        return call("page of the sessions of " + owner, c -> SessionRows.pageByOwner(c, owner, afterTimeMs, afterId,
                limit, queryTimeoutSeconds), true);
    }

    /** Sessions of {@code owner} in the store (null: of everyone), whether in memory or not. */
    public long count(String owner) {
        return call("count of sessions", c -> SessionRows.count(c, owner, queryTimeoutSeconds), true);
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T call(String what, Work<T> work, boolean readOnly) {
        try (Connection c = db.connection()) {
            try {
                T result = work.run(c);
                if (readOnly) {
                    c.rollback(); // ends the read transaction; nothing to keep
                }
                health.succeeded();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken: evicted below
                }
                if (e instanceof SQLException sql && StoreErrors.isTransient(sql)) {
                    db.evict(c);
                }
                throw e;
            }
        } catch (SQLException e) {
            throw translate(what, e);
        } catch (StoreUnavailableException | StoreFailureException e) {
            throw e;
        } catch (RuntimeException e) {
            String errorId = InternalErrors.newId();
            log.error("store.error error_id={} store=\"{}\" during {}", errorId, db.describe(), what, e);
            health.failedDeterministically(e.toString());
            throw new StoreFailureException(errorId, db.describe() + ": " + what + " failed: " + e, null);
        }
    }

    private RuntimeException translate(String what, SQLException e) {
        if (StoreErrors.isTransient(e)) {
            health.unavailable(e.getMessage());
            log.info("store.unavailable store=\"{}\" during {}: {} (SQLState {})", db.describe(), what, e.getMessage(),
                    e.getSQLState());
            // No cause: the exception travels to other members and clients, which need not have the driver's classes.
            return new StoreUnavailableException(db.describe() + " unavailable during " + what + ": "
                    + e.getMessage(), null);
        }
        String errorId = InternalErrors.newId();
        log.error("store.error error_id={} store=\"{}\" during {} (SQLState {})", errorId, db.describe(), what,
                e.getSQLState(), e);
        health.failedDeterministically(e.getMessage());
        return new StoreFailureException(errorId, db.describe() + ": " + what + " failed (SQLState "
                + e.getSQLState() + "): " + e.getMessage(), null);
    }

    private void probe() {
        try {
            if (db.ping(1)) {
                health.succeeded();
            } else {
                health.unavailable("no answer to a probe within 1 s");
            }
        } catch (RuntimeException e) {
            health.unavailable(e.toString());
        }
    }
}

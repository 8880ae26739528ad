package dev.warmroute.cluster.store;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Sorts store failures into the two kinds that call for different answers: transient (the database is away or busy:
 * UNAVAILABLE, retry) and deterministic (a bug or a misconfiguration: INTERNAL with an error id, no retry). Mapping
 * everything to "retry" would turn a bug into retries, resumes and breaker trips across the cluster.
 */
public final class StoreErrors {

    /** What a failure says about the store. */
    public enum Kind {
        /** Not a store failure at all. */
        NONE,
        /** Away or busy: retry later. */
        TRANSIENT,
        /** Will fail again: do not retry. */
        DETERMINISTIC
    }

    /**
     * SQLSTATE classes and codes that mean "try again later": connection exceptions (08), transaction rollbacks such as
     * serialization failures and deadlocks (40), insufficient resources (53), operator intervention such as a server
     * shutting down or a statement timeout (57), system errors (58), and H2's own codes for a timeout (HYT00), a broken
     * connection (90067), a closed database (90098, 90121), a database in use (90020) and a lock timeout (50200).
     */
    private static final Set<String> TRANSIENT_CLASSES = Set.of("08", "40", "53", "57", "58");
    private static final Set<String> TRANSIENT_STATES = Set.of("HYT00", "90067", "90098", "90020", "50200", "90108",
            "90121");

    private StoreErrors() {}

    /**
     * How a worker's UNAVAILABLE begins when the history store (not the worker) is the trouble: the database away, a
     * minority side of a split brain. Routers see it and do not count the failure against the worker's breaker: every
     * worker shares the store, so opening their breakers would only keep the cluster down after the store's return.
     */
    public static final String STATUS_PREFIX = "history store: ";

    /** True when a worker's status description says the store, not the worker, failed. */
    public static boolean isStoreStatus(String description) {
        return description != null && description.startsWith(STATUS_PREFIX);
    }

    /** True when a failed JDBC call may succeed when retried later. */
    public static boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException
                    || t instanceof SQLNonTransientConnectionException || t instanceof java.io.IOException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null) {
                String state = s.getSQLState();
                if (TRANSIENT_STATES.contains(state)
                        || (state.length() >= 2 && TRANSIENT_CLASSES.contains(state.substring(0, 2)))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The kind of a failure seen by a caller of the map: our exceptions anywhere in the cause chain, or their markers
     * in a message (a Hazelcast client receives a member's exception by class name and message only).
     */
    public static Kind kind(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StoreUnavailableException) {
                return Kind.TRANSIENT;
            }
            if (t instanceof StoreFailureException) {
                return Kind.DETERMINISTIC;
            }
            String m = t.getMessage();
            if (m != null && m.contains(StoreUnavailableException.MARKER)) {
                return Kind.TRANSIENT;
            }
            if (m != null && m.contains(StoreFailureException.MARKER)) {
                return Kind.DETERMINISTIC;
            }
        }
        return Kind.NONE;
    }

    /** The message of our exception in the chain (without the Hazelcast wrapping), or the failure's own. */
    public static String message(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains(StoreUnavailableException.MARKER) || m.contains(StoreFailureException.MARKER))) {
                int at = m.indexOf('[');
                String s = m.substring(at);
                int nl = s.indexOf('\n');
                return nl < 0 ? s : s.substring(0, nl);
            }
        }
        return String.valueOf(failure);
    }
}

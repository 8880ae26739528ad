package dev.warmroute.cluster.store;

/**
 * The store refused an operation for a reason a retry will not change: a constraint violated (a turn index stored
 * with other content), a value it cannot hold, a missing table, bad credentials. A bug or a misconfiguration, so
 * workers answer INTERNAL with the error id logged here, and nobody retries.
 */
public class StoreFailureException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Starts every message (see {@link StoreUnavailableException#MARKER}). */
    public static final String MARKER = "[store failure]";

    private final String errorId;

    public StoreFailureException(String errorId, String message, Throwable cause) {
        super(MARKER + " error " + errorId + ": " + message, cause);
        this.errorId = errorId;
    }

    /** How Hazelcast rebuilds a remote exception (message and cause): keeps the message as it is. */
    public StoreFailureException(String message, Throwable cause) {
        super(message.startsWith(MARKER) ? message : MARKER + " " + message, cause);
        int at = message.indexOf("error ");
        int end = at < 0 ? -1 : message.indexOf(':', at);
        this.errorId = at < 0 || end < 0 ? "" : message.substring(at + 6, end);
    }

    public String errorId() {
        return errorId;
    }
}

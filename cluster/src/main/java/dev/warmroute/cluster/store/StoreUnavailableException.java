package dev.warmroute.cluster.store;

/**
 * The store could not be reached or answered with a transient failure (connection refused or lost, timeout, pool
 * exhausted, the server shutting down, a serialization conflict): retrying later may succeed, and nothing was
 * written. Workers answer UNAVAILABLE naming the store.
 *
 * <p>Thrown on a Hazelcast member inside the map store; it reaches the caller on another member as this class (member
 * responses carry the exception), and a client by class name, which is why {@link StoreErrors} also recognises the
 * {@link #MARKER} in a message.
 */
public class StoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Starts every message, so the kind survives a trip through a Hazelcast client (class name and message only). */
    public static final String MARKER = "[store unavailable]";

    public StoreUnavailableException(String message, Throwable cause) {
        // Hazelcast rebuilds a remote exception from its message: do not mark it twice.
        super(message.startsWith(MARKER) ? message : MARKER + " " + message, cause);
    }
}

package dev.warmroute.worker;

import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.spi.exception.RetryableException;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.store.StoreErrors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status of a failed history call. Transient trouble is UNAVAILABLE with what to do (retry with the same
 * request_id, which is idempotent); everything else is a bug or a misconfiguration and becomes INTERNAL with an error
 * id in this worker's log, so that it is neither retried across the cluster nor counted against workers' breakers as
 * if they were down.
 */
final class StoreFailures {

    private static final Logger log = LoggerFactory.getLogger(StoreFailures.class);

    private StoreFailures() {}

    /** UNAVAILABLE for Hazelcast's own transient failures (anywhere in the cause chain), else null. */
    private static StatusRuntimeException transientHazelcast(String what, Throwable cause) {
        if (cause instanceof SplitBrainProtectionException) {
            return Status.UNAVAILABLE.withDescription(StoreErrors.STATUS_PREFIX + what + " refused: this worker is on"
                    + " a side of a network split without a quorum of the cluster (" + cause.getMessage() + ");"
                    + " nothing was written, retry on a worker of the majority").asRuntimeException();
        }
        if (cause instanceof IndeterminateOperationStateException) {
            return Status.UNAVAILABLE.withDescription(StoreErrors.STATUS_PREFIX + what + " may or may not have been"
                    + " applied (a backup did not acknowledge it in time, or its member left): not acknowledged;"
                    + " retry with the same request_id (a stored turn is replayed, a missing one computed again)")
                    .asRuntimeException();
        }
        if (cause instanceof MemberLeftException || cause instanceof RetryableException
                || cause instanceof com.hazelcast.core.OperationTimeoutException
                || cause instanceof com.hazelcast.core.HazelcastOverloadException
                || cause instanceof com.hazelcast.core.HazelcastInstanceNotActiveException
                || cause instanceof com.hazelcast.client.HazelcastClientOfflineException
                || cause instanceof com.hazelcast.spi.exception.TargetDisconnectedException
                || cause instanceof java.io.IOException) {
            return Status.UNAVAILABLE.withDescription(StoreErrors.STATUS_PREFIX + what + " failed: " + cause
                    + "; retry with the same request_id").asRuntimeException();
        }
        return null;
    }

    static StatusRuntimeException status(String what, Throwable cause) {
        switch (StoreErrors.kind(cause)) {
            case TRANSIENT -> {
                return Status.UNAVAILABLE.withDescription(StoreErrors.STATUS_PREFIX + what + " failed, "
                        + StoreErrors.message(cause) + "; nothing was written, retry with the same request_id")
                        .asRuntimeException();
            }
            case DETERMINISTIC -> {
                String errorId = InternalErrors.newId();
                log.error("store.failure error_id={} during {}: {}", errorId, what, StoreErrors.message(cause));
                return Status.INTERNAL.withDescription("internal error " + errorId + " (see the worker log): the"
                        + " history store refused the " + what + ": " + StoreErrors.message(cause)
                        + "; not retried").asRuntimeException();
            }
            case NONE -> { }
        }
        for (Throwable c = cause; c != null; c = c.getCause() == c ? null : c.getCause()) {
            StatusRuntimeException known = transientHazelcast(what, c);
            if (known != null) {
                return known;
            }
        }
        String errorId = InternalErrors.newId();
        log.error("store.failure error_id={} during {}", errorId, what, cause);
        return Status.INTERNAL.withDescription("internal error " + errorId + " (see the worker log): " + what
                + " failed: " + cause.getClass().getSimpleName() + "; not retried").asRuntimeException();
    }
}

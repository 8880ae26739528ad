package dev.warmroute.router;

import dev.warmroute.cluster.CallMetadata;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to a call that finds every worker full: RESOURCE_EXHAUSTED at once, never a queue in the router and never
 * UNAVAILABLE, with a {@code retry-after} trailer (whole seconds: the recent turn time, {@link TurnTime}) and a message
 * that names the limit ("cluster at capacity: 3 workers x capacity 2 turns in flight; retry after 1 s"). Counted in
 * {@code warmroute_router_shed{reason}} and logged once per refusal ({@code turn.shed}, with the session id).
 */
final class LoadShed {

    private static final Logger log = LoggerFactory.getLogger(LoadShed.class);

    /** Why the call was refused. */
    enum Reason {
        /** Placement found every worker that could serve at its advertised capacity. */
        AT_CAPACITY("at_capacity"),
        /** The worker tried refused the turn as full and so did the one other tried, or no other had room. */
        WORKERS_FULL("workers_full");

        private final String metric;

        Reason(String metric) {
            this.metric = metric;
        }

        String metric() {
            return metric;
        }
    }

    private LoadShed() {}

    /**
     * Counts and logs the refusal and returns the client's error, its trailers {@code trailers} plus retry-after.
     *
     * @param detail what was tried, for the message ("" for none)
     */
    static StatusRuntimeException refuse(RouterEnv env, String sessionId, String requestId, Reason reason,
            String detail, Metadata trailers) {
        long retryAfter = env.metrics().retryAfterSeconds(env.config().retryAfter().toSeconds());
        String message = "cluster at capacity: " + limits(env.router().directory().all())
                + (detail.isEmpty() ? "" : "; " + detail) + "; retry after " + retryAfter + " s";
        CallMetadata.setTrailer(trailers, CallMetadata.RETRY_AFTER, String.valueOf(retryAfter));
        env.metrics().shed(reason);
        log.info("turn.shed session={} request={} reason={} retry_after_s={} message=\"{}\"", sessionId, requestId,
                reason.metric(), retryAfter, message);
        return Status.RESOURCE_EXHAUSTED.withDescription(message).asRuntimeException(trailers);
    }

    /** "3 workers x capacity 2 turns in flight", or "3 workers, capacity 2+2+4 turns in flight" when they differ. */
    static String limits(List<WorkerHandle> workers) {
        if (workers.isEmpty()) {
            return "no worker registered";
        }
        int first = workers.getFirst().admissionLimit();
        boolean same = workers.stream().allMatch(w -> w.admissionLimit() == first);
        String n = workers.size() + (workers.size() == 1 ? " worker" : " workers");
        if (same) {
            return n + " x capacity " + (first > 0 ? first : "unbounded") + " turns in flight";
        }
        StringBuilder sb = new StringBuilder(n).append(", capacity ");
        for (int i = 0; i < workers.size(); i++) {
            int c = workers.get(i).admissionLimit();
            sb.append(i == 0 ? "" : "+").append(c > 0 ? String.valueOf(c) : "unbounded");
        }
        return sb.append(" turns in flight").toString();
    }
}

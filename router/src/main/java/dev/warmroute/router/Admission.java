package dev.warmroute.router;

/**
 * What {@link WorkerHandle#tryAcquire} gives: a {@link Permit} to run one call on the worker, or a {@link Refusal}
 * saying why not. Nothing is held after a refusal.
 */
public sealed interface Admission permits Permit, Admission.Refusal {

    /** Why a worker refused a call before it was made. */
    enum Why {
        /**
         * Another turn took the last in-flight slot under the load bound since placement looked: placement decides
         * again ({@link SessionRouter}), so this one never reaches a turn.
         */
        AT_LOAD_BOUND("overloaded"),
        /**
         * The worker holds as many turns as it advertised it can (all routers' together, {@link
         * WorkerHandle#admissionLimit}): placement decides again and, when every worker is full, the turn is refused
         * with RESOURCE_EXHAUSTED and retry-after.
         */
        AT_CAPACITY("at_capacity"),
        /** The worker's bulkhead is full: skip it like an overloaded worker. */
        BULKHEAD_FULL("bulkhead_full"),
        /** The breaker is open, or half-open with every trial call taken: skip it. */
        BREAKER_OPEN("breaker_open");

        private final String metric;

        Why(String metric) {
            this.metric = metric;
        }

        /** The label of {@code warmroute_router_fallbacks{reason}} when the refusing worker was the preferred one. */
        public String metric() {
            return metric;
        }
    }

    /** @param reason for RoutingInfo.fallback_reason and the logs */
    record Refusal(String workerId, Why why, String reason) implements Admission {}
}

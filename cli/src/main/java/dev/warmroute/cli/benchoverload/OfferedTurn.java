package dev.warmroute.cli.benchoverload;

import dev.warmroute.cli.drill.TurnRecord;

/**
 * One turn the benchmark offered, as its client saw it.
 *
 * @param phase       "unloaded" or "loaded"
 * @param record      what the history audit needs (session, request id, message, answer, error)
 * @param code        the gRPC status code's name ("OK" for an admitted turn)
 * @param retryAfter  the {@code retry-after} trailer of a refusal ("" when absent)
 * @param latencyMs   time until the answer's first token (admitted) or until the error (refused)
 * @param cache       "warm", "cold", "partial", ... for an admitted turn
 * @param prefillMs   the worker's prefill time of an admitted turn (Timings.prefill_ms)
 * @param queueMs     the worker's queue time of an admitted turn (Timings.queue_ms)
 * @param fallback    served by a worker other than the preferred one
 * @param rebalanced  moved its session (back) to its hash's first choice
 */
record OfferedTurn(String phase, TurnRecord record, String code, String retryAfter, double latencyMs, String cache,
        double prefillMs, double queueMs, boolean fallback, boolean rebalanced) {

    boolean admitted() {
        return "OK".equals(code);
    }

    boolean refusedForLoad() {
        return "RESOURCE_EXHAUSTED".equals(code);
    }
}

package dev.warmroute.cli.benchcluster;

/**
 * One turn as the client saw it.
 *
 * @param session        session id
 * @param turn           index of the turn in the session
 * @param worker         the worker that served it ("" when it failed)
 * @param promptTokens   usage.prompt_tokens
 * @param computedTokens usage.computed_tokens: the prefill this turn cost
 * @param generated      usage.generated_tokens
 * @param ttftMs         client-measured time to the first token
 * @param totalMs        client-measured time of the whole turn
 * @param cache          the cache outcome as in the trailer: "warm", "cold:stateless", "partial:prefix_mismatch", ...
 * @param fallback       RoutingInfo.fallback
 * @param rebalanced     RoutingInfo.rebalanced
 * @param answer         the answer's text (the approaches must agree on it)
 * @param error          the gRPC status of a failed turn, else null
 * @param endNanos       when the turn ended (System.nanoTime)
 * @param timings        the worker's own account of the turn (queue, prepare, prefill, decode, commit), or null
 */
record TurnSample(String session, int turn, String worker, int promptTokens, int computedTokens, int generated,
        double ttftMs, double totalMs, String cache, boolean fallback, boolean rebalanced, String answer, String error,
        long endNanos, dev.warmroute.api.v1.Timings timings) {

    boolean ok() {
        return error == null;
    }
}

package dev.warmroute.worker;

import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;

/**
 * Says what a worker's KV cache held for a turn, in the terms of chat.proto's CacheOutcome. Decided before prefill,
 * from the cache's tokens and what they were computed for.
 */
final class CacheOutcomes {

    private CacheOutcomes() {}

    /**
     * @param lease   the turn's cache: whether it existed or was evicted, the tokens it held, the prefix they share
     *                with the prompt, the version it was committed at
     * @param prompt  the prompt window
     * @param version session version the turn builds on (0: the session's first turn)
     * @param resumed a resumed turn (another worker's interrupted answer)
     */
    static CacheOutcome classify(KvCacheManager.Lease lease, PromptWindow.Prompt prompt, long version,
            boolean resumed) {
        int cachedTokens = lease.cachedTokens();
        int commonPrefix = lease.commonPrefix();
        long cachedVersion = lease.cachedVersion();
        if (!lease.existed()) {
            CacheReason reason = resumed ? CacheReason.CACHE_REASON_RESUMED
                    : version == 0 ? CacheReason.CACHE_REASON_NEW_SESSION
                    : lease.evictedBefore() ? CacheReason.CACHE_REASON_EVICTED
                    : CacheReason.CACHE_REASON_NO_CACHE;
            String detail = switch (reason) {
                case CACHE_REASON_NEW_SESSION -> "first turn of the session";
                case CACHE_REASON_EVICTED -> "this worker evicted the session's cache to stay within its KV budget";
                case CACHE_REASON_RESUMED -> "resumed turn: recomputed history and the partial answer";
                default -> "this worker holds no cache for the session";
            };
            return outcome(CacheStatus.CACHE_STATUS_COLD, reason, detail);
        }
        boolean keptAll = commonPrefix == cachedTokens;
        if (!resumed && keptAll && commonPrefix >= prompt.warmLength()) {
            return outcome(CacheStatus.CACHE_STATUS_WARM, CacheReason.CACHE_REASON_NONE,
                    "cache held " + cachedTokens + " tokens, all reused");
        }
        CacheStatus status = commonPrefix > 0 ? CacheStatus.CACHE_STATUS_PARTIAL : CacheStatus.CACHE_STATUS_COLD;
        if (resumed) {
            return outcome(status, CacheReason.CACHE_REASON_RESUMED, "resumed turn: cache held " + cachedTokens
                    + " tokens, reused " + commonPrefix);
        }
        if (prompt.pruned()) {
            return outcome(status, CacheReason.CACHE_REASON_WINDOW_CUT, "window start moved to turn "
                    + prompt.windowStart() + " (" + prompt.prunedTurns() + " turns pruned): positions shifted, reused "
                    + commonPrefix + " of " + cachedTokens + " cached tokens");
        }
        String detail = cachedVersion >= 0 && cachedVersion < version && keptAll
                ? "cache is " + (version - cachedVersion) + " turns behind (committed elsewhere since): reused "
                        + commonPrefix + " tokens"
                : "cache held " + cachedTokens + " tokens, prompt diverged at " + commonPrefix;
        return outcome(status, CacheReason.CACHE_REASON_PREFIX_MISMATCH, detail);
    }

    /** A turn on a worker in stateless mode: nothing was kept, the whole prompt is computed. */
    static CacheOutcome stateless() {
        return outcome(CacheStatus.CACHE_STATUS_COLD, CacheReason.CACHE_REASON_STATELESS,
                "stateless mode (--stateless): this worker keeps no KV cache between turns");
    }

    static CacheOutcome outcome(CacheStatus status, CacheReason reason, String detail) {
        return CacheOutcome.newBuilder().setStatus(status).setReason(reason).setDetail(detail).build();
    }

    /** Trailer form: "warm", "cold:evicted", "partial:window_cut", "replay". */
    static String trailer(CacheOutcome o) {
        String s = o.getStatus().name().substring("CACHE_STATUS_".length()).toLowerCase(java.util.Locale.ROOT);
        if (o.getReason() == CacheReason.CACHE_REASON_NONE || o.getReason() == CacheReason.CACHE_REASON_UNSPECIFIED) {
            return s;
        }
        return s + ":" + o.getReason().name().substring("CACHE_REASON_".length()).toLowerCase(java.util.Locale.ROOT);
    }
}

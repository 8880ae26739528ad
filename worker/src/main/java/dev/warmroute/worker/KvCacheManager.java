package dev.warmroute.worker;

import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvBudgetExceededException;
import dev.warmroute.engine.KvCache;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KV caches of this worker's sessions, one {@link KvCache} per session, all drawing blocks from one
 * {@link KvBlockPool} whose byte budget is never exceeded.
 *
 * <p>Eviction is of whole sessions, least recently used first: a partial cache would still cost a recompute of
 * everything after its cut, and whole-session eviction keeps the bookkeeping obvious. Before a turn computes, it
 * reserves all positions it may need (prompt + room for the answer); when the pool is short, idle sessions are
 * evicted until the reservation fits. A cache that is in use by a turn is never evicted under it; when only busy
 * caches remain the turn fails with RESOURCE_EXHAUSTED instead of waiting.
 *
 * <p>Recently evicted session ids are remembered (bounded), so a later turn can say EVICTED rather than NO_CACHE.
 */
public final class KvCacheManager {

    private static final Logger log = LoggerFactory.getLogger(KvCacheManager.class);
    private static final int REMEMBERED_EVICTIONS = 10_000;

    private final KvBlockPool pool;
    private final Function<KvBlockPool, KvCache> newCache;
    /** Keep nothing between turns (--stateless): a lease's commit gives the cache's blocks back. */
    private final boolean stateless;
    /** Access order: the first entry is the least recently used. Guarded by {@code this}. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private final LinkedHashMap<String, Boolean> evicted = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_EVICTIONS;
        }
    };
    private long evictions;
    private long hits;
    private long partialHits;
    private long misses;

    public KvCacheManager(KvBlockPool pool, Function<KvBlockPool, KvCache> newCache) {
        this(pool, newCache, false);
    }

    public KvCacheManager(KvBlockPool pool, Function<KvBlockPool, KvCache> newCache, boolean stateless) {
        this.pool = pool;
        this.newCache = newCache;
        this.stateless = stateless;
    }

    /** What the cache of a session represents: the committed history it was computed for. */
    private static final class Entry {
        final String sessionId;
        final KvCache cache;
        boolean busy;
        boolean dropWhenIdle;
        /** Version of the session after the turn that last committed on this cache (-1 = none). */
        long version = -1;
        int windowStart;

        Entry(String sessionId, KvCache cache) {
            this.sessionId = sessionId;
            this.cache = cache;
        }
    }

    /**
     * A turn's exclusive use of a session's cache, from the look-up to the end of the turn: {@link #reuse} keeps what
     * the cache shares with the prompt and says what it held ({@link #outcome}); the turn ends it with
     * {@link #commit} (the cache now holds the committed history) or {@link #rollback} (cut back to what it validly
     * held, so the next turn finds it consistent). Used by one thread, the turn's.
     */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private final boolean existed;
        private final boolean evictedBefore;
        private final int cachedTokens;
        /** Tokens that are a valid prefix of the committed history: what a rollback cuts the cache back to. */
        private int valid;
        private int commonPrefix;
        private int reused;
        private CacheOutcome outcome;
        private boolean ended;

        private Lease(Entry entry, boolean existed, boolean evictedBefore) {
            this.entry = entry;
            this.existed = existed;
            this.evictedBefore = evictedBefore;
            this.cachedTokens = entry.cache.size();
            this.valid = cachedTokens;
        }

        public KvCache cache() {
            return entry.cache;
        }

        /** The worker had a (non-empty) cache for the session before this turn. */
        public boolean existed() {
            return existed;
        }

        /** It had one and evicted it. */
        public boolean evictedBefore() {
            return evictedBefore;
        }

        /** Tokens the cache held when the turn took it. */
        public int cachedTokens() {
            return cachedTokens;
        }

        /** Of those, the prefix shared with the prompt ({@link #reuse}). */
        public int commonPrefix() {
            return commonPrefix;
        }

        /** Version of the session the cache was last committed at (-1 = never). */
        public long cachedVersion() {
            return entry.version;
        }

        public int cachedWindowStart() {
            return entry.windowStart;
        }

        /**
         * Compares the cache with the prompt: keeps their longest common prefix, but always recomputes at least the
         * prompt's last token (its logits start the answer); reserves the positions the turn may need (evicting idle
         * sessions, least recently used first); classifies and counts what the cache held.
         *
         * @param version the session version the turn builds on
         * @return prompt tokens reused, i.e. not to be prefilled
         */
        public int reuse(PromptWindow.Prompt prompt, long version, boolean resumed) {
            int[] tokens = prompt.tokens();
            commonPrefix = entry.cache.commonPrefixLength(tokens);
            reused = Math.min(commonPrefix, tokens.length - 1);
            outcome = stateless && !resumed ? CacheOutcomes.stateless()
                    : CacheOutcomes.classify(this, prompt, version, resumed);
            entry.cache.truncate(reused);
            valid = reused;
            ensureCapacity(prompt.reservation());
            recordOutcome(outcome.getStatus());
            return reused;
        }

        /** What the cache held for the turn ({@link #reuse}). */
        public CacheOutcome outcome() {
            return outcome;
        }

        /** Prompt tokens the cache already held ({@link #reuse}). */
        public int reused() {
            return reused;
        }

        /**
         * Reserves positions for {@code totalTokens} in all, evicting idle sessions (least recently used first) as
         * needed. RESOURCE_EXHAUSTED when even that cannot make room.
         */
        public void ensureCapacity(int totalTokens) {
            reserve(entry, totalTokens);
        }

        /** Whether {@link #commit} keeps the cache (not on a stateless worker: nothing survives a turn there). */
        public boolean keepsCommitted() {
            return !stateless;
        }

        /**
         * Ends the turn's use after its commit: the cache holds the committed history of {@code version} (prompt and
         * whole answer). A stateless worker gives its blocks back to the pool instead.
         */
        public void commit(long version, int windowStart) {
            if (stateless) {
                discard();
                return;
            }
            synchronized (KvCacheManager.this) {
                entry.version = version;
                entry.windowStart = windowStart;
            }
            end();
        }

        /** Ends the turn's use without a commit: the cache is cut back to what it validly held before the turn. */
        public void rollback() {
            try {
                entry.cache.truncate(Math.min(valid, entry.cache.size()));
            } catch (RuntimeException e) {
                discard();
                return;
            }
            end();
        }

        /** Ends the turn's use and empties the cache (a stateless commit, or a cache that cannot be trusted). */
        public void discard() {
            if (ended) {
                return;
            }
            try {
                entry.cache.truncate(0);
            } finally {
                end();
            }
        }

        /** A {@link #rollback} unless the use has already ended. */
        @Override
        public void close() {
            if (!ended) {
                rollback();
            }
        }

        private void end() {
            if (ended) {
                return;
            }
            ended = true;
            finish(entry);
        }
    }

    /** Takes the session's cache for a turn, creating an empty one if there is none. */
    public synchronized Lease acquire(String sessionId) {
        Entry e = entries.get(sessionId);
        if (e != null) {
            if (e.busy) {
                throw new IllegalStateException("KV cache of session " + sessionId + " is already in use");
            }
            e.busy = true;
            return new Lease(e, e.cache.size() > 0, false);
        }
        boolean wasEvicted = evicted.remove(sessionId) != null;
        e = new Entry(sessionId, newCache.apply(pool));
        e.busy = true;
        entries.put(sessionId, e);
        return new Lease(e, false, wasEvicted);
    }

    /** Forgets a session (deleted): its blocks go back to the pool now, or when its running turn ends. */
    public void drop(String sessionId) {
        Entry e;
        synchronized (this) {
            e = entries.get(sessionId);
            if (e == null) {
                return;
            }
            if (e.busy) {
                e.dropWhenIdle = true;
                return;
            }
            entries.remove(sessionId);
        }
        e.cache.release();
    }

    private void reserve(Entry self, int totalTokens) {
        while (true) {
            try {
                self.cache.ensureCapacity(totalTokens);
                return;
            } catch (KvBudgetExceededException short_) {
                Entry victim = null;
                synchronized (this) {
                    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
                        Entry candidate = it.next();
                        if (!candidate.busy && candidate != self) {
                            it.remove();
                            evicted.put(candidate.sessionId, Boolean.TRUE);
                            evictions++;
                            victim = candidate;
                            break;
                        }
                    }
                }
                if (victim == null) {
                    throw Errors.exhausted("KV cache full: session '" + self.sessionId + "' needs "
                            + short_.bytesNeeded() + " more bytes for " + totalTokens + " positions, "
                            + short_.bytesFree() + " of " + pool.byteBudget()
                            + " bytes are free and every other cache is in use by a running turn"
                            + " (raise --kv-cache-mb or lower --capacity)");
                }
                long freed = victim.cache.sizeBytes();
                int tokens = victim.cache.size();
                victim.cache.release();
                log.info("kv.evict session={} tokens={} bytes={} for={} need_bytes={}", victim.sessionId, tokens,
                        freed, self.sessionId, short_.bytesNeeded());
            }
        }
    }

    private void finish(Entry e) {
        // Give back blocks reserved for answer room that the turn did not use, while the cache is still ours (an
        // idle cache may be evicted, i.e. released, by another turn at any moment).
        e.cache.truncate(e.cache.size());
        boolean release;
        synchronized (this) {
            e.busy = false;
            release = e.dropWhenIdle || e.cache.size() == 0;
            if (release) {
                entries.remove(e.sessionId, e);
            }
        }
        if (release) {
            e.cache.release();
        }
    }

    /** Counts a turn's cache outcome for the stats. */
    private synchronized void recordOutcome(CacheStatus status) {
        switch (status) {
            case CACHE_STATUS_WARM -> hits++;
            case CACHE_STATUS_PARTIAL -> partialHits++;
            case CACHE_STATUS_COLD -> misses++;
            default -> { }
        }
    }

    /** A consistent snapshot of the figures. */
    public synchronized dev.warmroute.api.v1.KvCacheStats stats() {
        long tokens = 0;
        for (Entry e : entries.values()) {
            tokens += e.cache.size();
        }
        return dev.warmroute.api.v1.KvCacheStats.newBuilder().setBytesUsed(pool.bytesUsed())
                .setBytesBudget(pool.byteBudget()).setSessions(entries.size()).setTokens(tokens)
                .setEvictions(evictions).setHits(hits).setPartialHits(partialHits).setMisses(misses).build();
    }

    public long bytesUsed() {
        return pool.bytesUsed();
    }

    public long byteBudget() {
        return pool.byteBudget();
    }

    public synchronized int sessions() {
        return entries.size();
    }

    public synchronized long evictions() {
        return evictions;
    }

    /** Tokens the session's cache holds now (0 when none); read while a turn may be appending (tests). */
    synchronized int tokensOf(String sessionId) {
        Entry e = entries.get(sessionId);
        return e == null ? 0 : e.cache.size();
    }

    /** Whether this worker holds a cache for the session (tests, stats). */
    public synchronized boolean holds(String sessionId) {
        return entries.containsKey(sessionId);
    }
}

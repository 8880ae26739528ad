package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.testing.TestModel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cache manager over the engine's real block pool (blocks of 16 positions of the tests' model). */
class KvCacheManagerTest {

    private static EngineModel model;

    @BeforeAll
    static void load() {
        model = EngineModel.load(TestModel.path(), 1);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    private static KvCacheManager manager(int blocks) {
        KvBlockPool pool = model.newPool(blocks * KvBlockPool.BLOCK_TOKENS * model.kvBytesPerToken());
        return new KvCacheManager(pool, model::newCache);
    }

    private static void fill(KvCacheManager.Lease lease, int tokens) {
        lease.ensureCapacity(tokens);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = 3 + i % 200;
        }
        model.forward(lease.cache(), ids, 0, tokens);
    }

    @Test
    void neverEvictsACacheInUseAndFailsInsteadOfWaiting() {
        KvCacheManager m = manager(4);
        KvCacheManager.Lease a = m.acquire("a");
        fill(a, 48); // 3 of 4 blocks, still busy
        KvCacheManager.Lease b = m.acquire("b");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> b.ensureCapacity(32));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("KV cache full"), e.toString());
        assertEquals(48, a.cache().size(), "the busy cache was left alone");
        assertTrue(m.bytesUsed() <= m.byteBudget());
        b.close();
        a.commit(1, 0);
    }

    @Test
    void evictsTheLeastRecentlyUsedIdleSessionsAndRemembersThem() {
        KvCacheManager m = manager(4);
        for (String id : new String[] {"old", "mid"}) {
            KvCacheManager.Lease l = m.acquire(id);
            fill(l, 32);
            l.commit(1, 0);
        }
        KvCacheManager.Lease touch = m.acquire("old"); // "old" is now the most recently used
        touch.commit(1, 0);
        KvCacheManager.Lease n = m.acquire("new");
        n.ensureCapacity(32);
        assertFalse(m.holds("mid"), "the least recently used one went");
        assertTrue(m.holds("old"));
        assertEquals(1, m.evictions());
        assertTrue(m.bytesUsed() <= m.byteBudget());
        n.close();
        assertFalse(m.holds("new"), "an empty cache is not kept");

        KvCacheManager.Lease back = m.acquire("mid");
        assertFalse(back.existed());
        assertTrue(back.evictedBefore(), "comes back knowing it was evicted");
        back.close();
    }

    @Test
    void returnsUnusedReservedBlocksAfterATurn() {
        KvCacheManager m = manager(8);
        KvCacheManager.Lease l = m.acquire("s");
        l.ensureCapacity(100); // prompt + answer room: 7 blocks
        assertEquals(7 * KvBlockPool.BLOCK_TOKENS * model.kvBytesPerToken(), m.bytesUsed());
        model.forward(l.cache(), new int[] {1, 5, 9}, 0, 3);
        l.commit(1, 0);
        assertEquals(KvBlockPool.BLOCK_TOKENS * model.kvBytesPerToken(), m.bytesUsed(), "one block for 3 tokens");
        m.drop("s");
        assertEquals(0, m.bytesUsed());
    }

    /** A prompt whose window is all of {@code tokens} and was not cut. */
    private static PromptWindow.Prompt prompt(int... tokens) {
        return new PromptWindow.Prompt(tokens, tokens.length, 0, 0, 1, 1, 512, 16);
    }

    @Test
    void aLeaseReusesTheCommonPrefixRecomputesTheLastPromptTokenAndRollsBackToWhatWasValid() {
        KvCacheManager m = manager(8);
        int[] first = {1, 5, 9, 13};
        KvCacheManager.Lease a = m.acquire("s");
        assertEquals(0, a.reuse(prompt(first), 0, false));
        assertEquals(CacheReason.CACHE_REASON_NEW_SESSION, a.outcome().getReason());
        model.forward(a.cache(), first, 0, first.length);
        a.commit(1, 0);

        KvCacheManager.Lease same = m.acquire("s");
        assertEquals(3, same.reuse(prompt(first), 1, false), "the prompt's last token is recomputed, for its logits");
        same.rollback();
        assertEquals(3, m.tokensOf("s"));

        int[] diverging = {1, 5, 20, 21};
        KvCacheManager.Lease b = m.acquire("s");
        assertEquals(2, b.reuse(prompt(diverging), 1, false));
        assertEquals(CacheStatus.CACHE_STATUS_PARTIAL, b.outcome().getStatus());
        assertEquals(CacheReason.CACHE_REASON_PREFIX_MISMATCH, b.outcome().getReason());
        model.forward(b.cache(), diverging, 2, diverging.length); // the turn computes, then fails
        b.rollback();
        assertEquals(2, m.tokensOf("s"), "cut back to the prefix it validly held, not what the failed turn added");
        assertEquals(3, m.stats().getHits() + m.stats().getPartialHits() + m.stats().getMisses(),
                "every look-up is counted: " + m.stats());
    }

    @Test
    void aStatelessManagerSaysSoAndKeepsNothingAfterACommit() {
        KvBlockPool pool = model.newPool(8 * KvBlockPool.BLOCK_TOKENS * model.kvBytesPerToken());
        KvCacheManager m = new KvCacheManager(pool, model::newCache, true);
        int[] tokens = {1, 5, 9, 13};
        KvCacheManager.Lease l = m.acquire("s");
        l.reuse(prompt(tokens), 3, false);
        assertEquals(CacheReason.CACHE_REASON_STATELESS, l.outcome().getReason());
        assertFalse(l.keepsCommitted());
        model.forward(l.cache(), tokens, 0, tokens.length);
        l.commit(4, 0);
        assertFalse(m.holds("s"));
        assertEquals(0, m.bytesUsed());
    }
}

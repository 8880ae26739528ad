package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvCacheTest {

    @TempDir
    static Path dir;
    static Model model;
    static long block;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(RandomLlama.write(dir.resolve("m.gguf"), "f32", 3),
                EngineOptions.builder().threads(2).build());
        block = model.kvBytesPerToken() * KvBlockPool.BLOCK_TOKENS;
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] tokens(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (i * 7 + 3) % RandomLlama.VOCAB;
        }
        return t;
    }

    @Test
    void bytesPerTokenCountsKeysAndValuesOfEveryLayer() {
        int kvDim = RandomLlama.DIM / RandomLlama.HEADS * RandomLlama.KV_HEADS;
        assertEquals(2L * RandomLlama.LAYERS * kvDim * 4, model.kvBytesPerToken());
    }

    @Test
    void growsInWholeBlocksAndTruncateReleasesWholeBlocks() {
        KvBlockPool pool = new KvBlockPool(model.config(), 10 * block);
        KvCache c = model.newCache(pool);
        model.forward(c, tokens(40), 0, 40);
        assertEquals(40, c.size());
        assertEquals(3 * block, c.sizeBytes());
        assertEquals(3 * block, pool.bytesUsed());
        c.truncate(33);
        assertEquals(3 * block, c.sizeBytes(), "position 32 still lives in the third block");
        c.truncate(32);
        assertEquals(2 * block, c.sizeBytes());
        assertEquals(2 * block, pool.bytesUsed());
        assertArrayEquals(Arrays.copyOf(tokens(40), 32), c.tokens());
        c.truncate(0);
        assertEquals(0, pool.bytesUsed());
        assertThrows(IllegalArgumentException.class, () -> c.truncate(1));
    }

    @Test
    void ensureCapacityAllocatesAllOrNothing() {
        KvBlockPool pool = new KvBlockPool(model.config(), 4 * block);
        KvCache a = model.newCache(pool);
        a.ensureCapacity(17); // 2 blocks
        assertEquals(2 * block, pool.bytesUsed());
        KvCache b = model.newCache(pool);
        KvBudgetExceededException e = assertThrows(KvBudgetExceededException.class, () -> b.ensureCapacity(48));
        assertEquals(3 * block, e.bytesNeeded());
        assertEquals(2 * block, e.bytesFree());
        assertEquals(2 * block, pool.bytesUsed(), "nothing allocated by the failed call");
        assertEquals(0, b.sizeBytes());
        a.release(); // the worker evicts a session and retries
        b.ensureCapacity(48);
        assertEquals(3 * block, pool.bytesUsed());
        assertEquals(pool.byteBudget() - pool.bytesUsed(), pool.bytesFree());
    }

    @Test
    void forwardBeyondTheBudgetFailsWithoutChangingTheCache() {
        KvBlockPool pool = new KvBlockPool(model.config(), 2 * block);
        KvCache c = model.newCache(pool);
        model.forward(c, tokens(20), 0, 20);
        assertThrows(KvBudgetExceededException.class, () -> model.forward(c, tokens(40), 20, 40));
        assertEquals(20, c.size());
        assertEquals(2 * block, pool.bytesUsed());
    }

    @Test
    void promptLongerThanTheContextIsRefusedNamingTheContextLength() {
        KvBlockPool pool = new KvBlockPool(model.config(), 40 * block);
        KvCache c = model.newCache(pool);
        int[] t = tokens(RandomLlama.CONTEXT + 1);
        ContextOverflowException e = assertThrows(ContextOverflowException.class,
                () -> model.forward(c, t, 0, t.length));
        assertTrue(e.getMessage().contains("context length is " + RandomLlama.CONTEXT), e.getMessage());
        assertEquals(0, c.size());
        assertEquals(0, pool.bytesUsed());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRefused() {
        KvCache c = model.newCache(new KvBlockPool(model.config(), 4 * block));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(c, new int[] {1, RandomLlama.VOCAB}, 0, 2));
        assertTrue(e.getMessage().contains("token id " + RandomLlama.VOCAB), e.getMessage());
    }

    @Test
    void commonPrefixLengthComparesHeldTokens() {
        KvCache c = model.newCache(new KvBlockPool(model.config(), 4 * block));
        model.forward(c, new int[] {5, 6, 7, 8}, 0, 4);
        assertEquals(2, c.commonPrefixLength(new int[] {5, 6, 9}));
        assertEquals(4, c.commonPrefixLength(new int[] {5, 6, 7, 8, 9, 10}));
        assertEquals(1, c.commonPrefixLength(new int[] {5}));
        assertEquals(0, c.commonPrefixLength(new int[] {}));
    }

    @Test
    void exportImportRoundTripsAndRefusesOtherModelsAndCorruptBlobs() throws Exception {
        KvBlockPool pool = new KvBlockPool(model.config(), 8 * block);
        KvCache c = model.newCache(pool);
        model.forward(c, tokens(21), 0, 21);
        byte[] blob = c.export();
        KvCache copy = KvCache.importFrom(blob, model, pool);
        assertArrayEquals(c.tokens(), copy.tokens());
        assertEquals(c.sizeBytes(), copy.sizeBytes());
        assertArrayEquals(blob, copy.export());

        try (Model other = Model.load(RandomLlama.write(dir.resolve("other.gguf"), "f32", 4))) {
            KvBlockPool otherPool = new KvBlockPool(other.config(), 8 * block);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KvCache.importFrom(blob, other, otherPool));
            assertTrue(e.getMessage().contains(model.id()) && e.getMessage().contains(other.id()), e.getMessage());
        }
        IllegalArgumentException cut = assertThrows(IllegalArgumentException.class,
                () -> KvCache.importFrom(Arrays.copyOf(blob, blob.length - 5), model, pool));
        assertTrue(cut.getMessage().contains("corrupt"), cut.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvCache.importFrom(new byte[3], model, pool));

        KvBlockPool tiny = new KvBlockPool(model.config(), block);
        assertThrows(KvBudgetExceededException.class, () -> KvCache.importFrom(blob, model, tiny));
        assertEquals(0, tiny.bytesUsed());
    }

    @Test
    void warmUpLeavesNoStateBehindAndDoesNotChangeResults() {
        KvBlockPool pool = new KvBlockPool(model.config(), 8 * block);
        KvCache before = model.newCache(pool);
        float[] a = model.forward(before, tokens(20), 0, 20);
        long used = pool.bytesUsed();
        model.warmUp(); // returns how long it took: a figure for the logs, not something to assert on
        assertEquals(20, before.size(), "a cache made before the warm-up keeps its positions");
        assertEquals(used, pool.bytesUsed(), "the warm-up takes nothing from the pools of sessions");
        KvCache after = model.newCache(new KvBlockPool(model.config(), 8 * block));
        float[] b = model.forward(after, tokens(20), 0, 20);
        assertArrayEquals(a, b, "a new cache computes what it did before the warm-up");
        // The cache from before goes on as one that never saw a warm-up.
        assertArrayEquals(model.forward(after, tokens(21), 20, 21), model.forward(before, tokens(21), 20, 21));
    }

    @Test
    void aPoolSmallerThanOneBlockIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new KvBlockPool(model.config(), block - 1));
    }
}

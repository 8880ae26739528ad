package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariant warm, cold and failover answers rest on: the logits of a position are BITWISE identical however the
 * prompt reached the cache (one call, chunks of 1/7/64, truncate and re-prefill, export/import) and whatever the
 * thread count, internal prefill chunk or which steps run on the calling thread alone. Checked on the reference
 * model and on random-weight models of several storage types, over the prompt and a greedy continuation.
 */
class CacheInvariantTest {

    private static final int PROMPT = 150;
    private static final int STEPS = 12;

    @TempDir
    Path dir;

    /** Logits at the end of the prompt and at each greedy step, with the tokens chosen. */
    record Trace(List<float[]> logits, int[] tokens) {}

    interface Prefill {
        float[] run(Model m, KvCache cache, int[] prompt);
    }

    @Test
    void referenceModelGivesIdenticalLogitsWhateverTheSplit() {
        check(TestModels.referenceModelOrSkip());
    }

    @Test
    void randomF32ModelGivesIdenticalLogitsWhateverTheSplit() throws Exception {
        check(RandomLlama.write(dir.resolve("f32.gguf"), "f32", 11));
    }

    @Test
    void randomQ8ModelGivesIdenticalLogitsWhateverTheSplit() throws Exception {
        check(RandomLlama.write(dir.resolve("q8.gguf"), "q8_0", 12));
    }

    @Test
    void randomQ4AndHalfModelsGiveIdenticalLogitsWhateverTheSplit() throws Exception {
        check(RandomLlama.write(dir.resolve("q4.gguf"), "q4_0", 13));
        check(RandomLlama.write(dir.resolve("f16.gguf"), "f16", 14));
    }

    /** The whole invariant for one model file (also run by {@link SameBitsAtEveryWidthTest} at each width). */
    static void check(Path file) {
        // minParallelWork 0: every step is split across the threads, however small (the models here are tiny)
        try (Model two = Model.load(file, EngineOptions.builder().threads(2).minParallelWork(0).build());
             Model one = Model.load(file, EngineOptions.builder().threads(1).build());
             Model smallChunks = Model.load(file, EngineOptions.builder().threads(2).prefillChunk(5).build())) {
            int vocab = two.config().vocabSize();
            int[] prompt = new SplittableRandom(7).ints(PROMPT, 0, vocab).toArray();
            Trace expected = trace(two, prompt, (m, c, p) -> m.forward(c, p, 0, p.length));

            assertSame(expected, trace(two, prompt, chunks(1)), "token by token");
            assertSame(expected, trace(two, prompt, chunks(7)), "chunks of 7");
            assertSame(expected, trace(two, prompt, chunks(64)), "chunks of 64");
            assertSame(expected, trace(one, prompt, (m, c, p) -> m.forward(c, p, 0, p.length)), "1 thread");
            assertSame(expected, trace(smallChunks, prompt, (m, c, p) -> m.forward(c, p, 0, p.length)),
                    "internal prefill chunk 5");
            assertSame(expected, trace(two, prompt, (m, c, p) -> {
                m.forward(c, p, 0, p.length);
                c.truncate(37); // inside a block: the block is kept and overwritten from position 37
                return m.forward(c, p, 37, p.length);
            }), "truncate to 37 and re-prefill");
            assertSame(expected, trace(two, prompt, (m, c, p) -> {
                m.forward(c, p, 0, 64);
                c.truncate(32); // on a block boundary
                m.forward(c, p, 32, 90);
                return m.forward(c, p, 90, p.length);
            }), "truncate to 32 and re-prefill");
            KvBlockPool otherPool = new KvBlockPool(two.config(), two.kvBytesPerToken() * 512);
            Trace imported = traceFrom(two, prompt, () -> {
                KvCache c = two.newCache(new KvBlockPool(two.config(), two.kvBytesPerToken() * 512));
                two.forward(c, prompt, 0, 100);
                byte[] blob = c.export();
                c.release();
                KvCache copy = KvCache.importFrom(blob, two, otherPool);
                assertEquals(100, copy.size());
                return new Object[] {copy, two.forward(copy, prompt, 100, prompt.length)};
            });
            assertSame(expected, imported, "export after 100, import, continue");
        }
    }

    private static Prefill chunks(int n) {
        return (m, c, p) -> {
            float[] last = null;
            for (int i = 0; i < p.length; i += n) {
                last = m.forward(c, p, i, Math.min(p.length, i + n));
            }
            return last;
        };
    }

    private static Trace trace(Model m, int[] prompt, Prefill prefill) {
        return traceFrom(m, prompt, () -> {
            KvCache c = m.newCache(new KvBlockPool(m.config(), m.kvBytesPerToken() * 512));
            return new Object[] {c, prefill.run(m, c, prompt)};
        });
    }

    private static Trace traceFrom(Model m, int[] prompt, java.util.function.Supplier<Object[]> start) {
        Object[] s = start.get();
        KvCache cache = (KvCache) s[0];
        float[] logits = (float[]) s[1];
        assertArrayEquals(prompt, cache.tokens());
        List<float[]> all = new ArrayList<>();
        int[] tokens = new int[STEPS];
        all.add(logits);
        for (int i = 0; i < STEPS; i++) {
            tokens[i] = Sampler.argmax(logits);
            logits = m.forward(cache, new int[] {tokens[i]}, 0, 1);
            all.add(logits);
        }
        cache.release();
        return new Trace(all, tokens);
    }

    private static void assertSame(Trace expected, Trace actual, String how) {
        assertArrayEquals(expected.tokens(), actual.tokens(), how + ": greedy tokens differ");
        for (int i = 0; i < expected.logits().size(); i++) {
            float[] e = expected.logits().get(i);
            float[] a = actual.logits().get(i);
            for (int j = 0; j < e.length; j++) {
                if (Float.floatToRawIntBits(e[j]) != Float.floatToRawIntBits(a[j])) {
                    throw new AssertionError(how + ": logit " + j + " at step " + i + " differs: " + e[j] + " vs "
                            + a[j] + " (bitwise identity required)");
                }
            }
        }
    }
}

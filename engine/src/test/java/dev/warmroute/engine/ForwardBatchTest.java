package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding several sessions in one step gives each session the logits it gets alone, bit for bit, whatever the
 * batch size (which switches the matrix kernels between their one-token and tile forms) and the sessions' lengths.
 */
class ForwardBatchTest {

    @TempDir
    Path dir;

    @Test
    void batchedDecodeEqualsEachSessionAloneBitForBit() throws Exception {
        check(RandomLlama.write(dir.resolve("f32.gguf"), "f32", 31));
        check(RandomLlama.write(dir.resolve("q8.gguf"), "q8_0", 32));
        check(TestModels.referenceModelOrSkip());
    }

    private void check(Path file) {
        try (Model m = Model.load(file, EngineOptions.builder().threads(2).minParallelWork(0).build())) {
            KvBlockPool pool = new KvBlockPool(m.config(), m.kvBytesPerToken() * 4096);
            SplittableRandom r = new SplittableRandom(9);
            int sessions = 5;
            int steps = 6;
            int[][] prompts = new int[sessions][];
            for (int i = 0; i < sessions; i++) {
                prompts[i] = r.ints(i == 0 ? 1 : 3 + 17 * i, 0, m.config().vocabSize()).toArray();
            }
            // alone: prompt, then greedy steps
            List<List<float[]>> alone = new ArrayList<>();
            List<int[]> chosen = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                KvCache c = m.newCache(pool);
                float[] l = m.forward(c, prompts[i]);
                List<float[]> trace = new ArrayList<>();
                int[] tok = new int[steps];
                for (int k = 0; k < steps; k++) {
                    tok[k] = Sampler.argmax(l);
                    l = m.forward(c, tok[k]);
                    trace.add(l);
                }
                alone.add(trace);
                chosen.add(tok);
                c.release();
            }
            // together: batches of every size from 1 to 5 (the first sessions of the list)
            for (int size = 1; size <= sessions; size++) {
                List<KvCache> caches = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    KvCache c = m.newCache(pool);
                    m.forward(c, prompts[i]);
                    caches.add(c);
                }
                for (int k = 0; k < steps; k++) {
                    int[] tokens = new int[size];
                    for (int i = 0; i < size; i++) {
                        tokens[i] = chosen.get(i)[k];
                    }
                    List<float[]> out = m.forwardBatch(caches, tokens);
                    for (int i = 0; i < size; i++) {
                        float[] e = alone.get(i).get(k);
                        float[] a = out.get(i);
                        for (int j = 0; j < e.length; j++) {
                            if (Float.floatToRawIntBits(e[j]) != Float.floatToRawIntBits(a[j])) {
                                throw new AssertionError(file.getFileName() + ": batch of " + size + ", session " + i
                                        + ", step " + k + ": logit " + j + " is " + a[j] + ", alone " + e[j]);
                            }
                        }
                    }
                }
                for (int i = 0; i < size; i++) {
                    assertEquals(prompts[i].length + steps, caches.get(i).size());
                    caches.get(i).release();
                }
            }
        }
    }

    @Test
    void rejectsAMismatchedOrRepeatedOrFullBatchAndAppendsNothing() throws Exception {
        Path file = RandomLlama.write(dir.resolve("f32.gguf"), "f32", 33);
        try (Model m = Model.load(file, EngineOptions.builder().threads(1).build())) {
            KvBlockPool pool = new KvBlockPool(m.config(), m.kvBytesPerToken() * 1024);
            KvCache a = m.newCache(pool);
            KvCache b = m.newCache(pool);
            m.forward(a, 1, 2, 3);
            var e1 = assertThrows(IllegalArgumentException.class, () -> m.forwardBatch(List.of(a, b), new int[] {1}));
            assertTrue(e1.getMessage().contains("one token per cache"), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class,
                    () -> m.forwardBatch(List.of(a, b, a), new int[] {1, 2, 3}));
            assertTrue(e2.getMessage().contains("appears twice"), e2.getMessage());
            var e3 = assertThrows(IllegalArgumentException.class,
                    () -> m.forwardBatch(List.of(a, b), new int[] {1, RandomLlama.VOCAB}));
            assertTrue(e3.getMessage().contains("outside the vocabulary"), e3.getMessage());
            m.forward(b, new int[RandomLlama.CONTEXT], 0, RandomLlama.CONTEXT);
            assertThrows(ContextOverflowException.class, () -> m.forwardBatch(List.of(a, b), new int[] {1, 2}));
            assertEquals(3, a.size());
            assertEquals(RandomLlama.CONTEXT, b.size());
        }
    }
}

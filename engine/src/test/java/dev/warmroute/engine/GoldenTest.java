package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.warmroute.engine.tokenizer.TextDecoder;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** llama2.c's own test of the reference model: 200 greedy tokens after BOS, ids and text exactly. */
class GoldenTest {

    @Test
    void greedyFromBosReproducesLlama2cByteForByte() throws Exception {
        check(TestModels.referenceModelOrSkip());
    }

    /** The whole check on the reference model at {@code modelPath} (also run by {@link SameBitsAtEveryWidthTest}). */
    static void check(java.nio.file.Path modelPath) throws java.io.IOException {
        String expectedText = Files.readString(TestModels.referenceFileOrSkip("stories260K-t0-n200.txt"));
        int[] expectedIds = Arrays.stream(Files.readString(TestModels.referenceFileOrSkip("stories260K-t0-n200.ids"))
                .strip().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        try (Model m = Model.load(modelPath, EngineOptions.builder().threads(2).build())) {
            Tokenizer tok = m.tokenizer();
            KvCache cache = m.newCache(new KvBlockPool(m.config(), m.kvBytesPerToken() * 256));
            TextDecoder decoder = tok.newDecoder();
            StringBuilder text = new StringBuilder(decoder.push(tok.bos()));
            int[] ids = new int[200];
            int token = tok.bos();
            for (int i = 0; i < 200; i++) {
                token = Sampler.sample(m.forward(cache, token), 0f, 0.9f, 0.5);
                ids[i] = token;
                text.append(decoder.push(token));
            }
            text.append(decoder.flush());
            assertArrayEquals(expectedIds, ids);
            assertEquals(expectedText, text.toString());
            assertEquals("stories260k-f32-", m.id().substring(0, 16));
        }
    }
}

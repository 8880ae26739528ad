package dev.warmroute.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final float[] LOGITS = {1f, 3f, 2f, 3f, -1f};

    @Test
    void temperatureZeroIsArgmaxTakingTheFirstOfTies() {
        assertEquals(1, Sampler.argmax(LOGITS));
        assertEquals(1, Sampler.sample(LOGITS, 0f, 0.9f, 0.99));
    }

    @Test
    void theSameDrawGivesTheSameTokenAndDrawsCoverTheDistribution() {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            double u = TokenRandom.uniform(42, "session-a", 3, i);
            int a = Sampler.sample(LOGITS, 1f, 1f, u);
            assertEquals(a, Sampler.sample(LOGITS, 1f, 1f, u));
            seen.add(a);
        }
        assertEquals(Set.of(0, 1, 2, 3, 4), seen);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        float[] logits = {10f, 9.5f, 0f, -5f};
        for (int i = 0; i < 100; i++) {
            int t = Sampler.sample(logits, 1f, 0.5f, TokenRandom.uniform(1, "s", 0, i));
            assertEquals(0, t, "top-p 0.5 keeps only the most likely token here");
        }
    }

    @Test
    void tokenRandomIsAPureFunctionOfItsInputs() {
        double a = TokenRandom.uniform(7, "s1", 2, 10);
        assertEquals(a, TokenRandom.uniform(7, "s1", 2, 10));
        assertNotEquals(a, TokenRandom.uniform(7, "s1", 2, 11));
        assertNotEquals(a, TokenRandom.uniform(7, "s2", 2, 10));
        assertNotEquals(a, TokenRandom.uniform(8, "s1", 2, 10));
        assertNotEquals(a, TokenRandom.uniform(7, "s1", 3, 10));
        assertTrue(a >= 0 && a < 1);
    }

    @Test
    void badArgumentsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.sample(LOGITS, -1f, 0.9f, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Sampler.sample(LOGITS, 1f, 0.9f, 1.0));
    }
}

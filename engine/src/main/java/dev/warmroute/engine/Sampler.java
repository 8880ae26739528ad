package dev.warmroute.engine;

import dev.warmroute.engine.tensor.Ops;
import java.util.Arrays;

/**
 * Picks the next token from logits: greedy, temperature, top-p (nucleus), as llama2.c does. Pure functions of their
 * inputs (the randomness comes in as {@code uniform01}, see {@link TokenRandom}), and the softmax uses the engine's
 * own exp, so the same logits and draw give the same token on every machine.
 */
public final class Sampler {
    private Sampler() {}

    /** Index of the largest logit (the first one on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        float max = logits[0];
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > max) {
                max = logits[i];
                best = i;
            }
        }
        return best;
    }

    /**
     * Samples a token. temperature 0 = argmax; topP in (0, 1) restricts to the smallest set of most likely tokens
     * whose probabilities sum past topP; topP outside (0, 1) samples from the whole distribution.
     *
     * @param uniform01 a draw in [0, 1)
     */
    public static int sample(float[] logits, float temperature, float topP, double uniform01) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(uniform01 >= 0.0 && uniform01 < 1.0)) {
            throw new IllegalArgumentException("uniform01 must be in [0, 1), got " + uniform01);
        }
        if (temperature == 0f) {
            return argmax(logits);
        }
        int n = logits.length;
        float[] probs = new float[n];
        for (int i = 0; i < n; i++) {
            probs[i] = logits[i] / temperature;
        }
        Ops.softmax(probs, 0, n);
        float coin = (float) uniform01;
        if (topP <= 0f || topP >= 1f) {
            float cdf = 0f;
            for (int i = 0; i < n; i++) {
                cdf += probs[i];
                if (coin < cdf) {
                    return i;
                }
            }
            return n - 1; // rounding
        }
        return topP(probs, topP, coin);
    }

    /** llama2.c's sample_topp: drop tokens below (1 - p) / (n - 1), sort descending, cut at cumulative p. */
    private static int topP(float[] probs, float topP, float coin) {
        int n = probs.length;
        float cutoff = (1.0f - topP) / (n - 1);
        long[] keys = new long[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) {
                // sort by probability descending, then index ascending: deterministic on ties
                keys[m++] = ((long) Float.floatToIntBits(probs[i]) << 32) | (0xFFFFFFFFL & ~i);
            }
        }
        Arrays.sort(keys, 0, m);
        float cumulative = 0f;
        int last = m - 1;
        for (int j = m - 1; j >= 0; j--) {
            cumulative += Float.intBitsToFloat((int) (keys[j] >>> 32));
            if (cumulative > topP) {
                last = j;
                break;
            }
        }
        float r = coin * cumulative;
        float cdf = 0f;
        for (int j = m - 1; j >= last; j--) {
            cdf += Float.intBitsToFloat((int) (keys[j] >>> 32));
            if (r < cdf) {
                return ~(int) keys[j];
            }
        }
        return ~(int) keys[last];
    }
}

package dev.warmroute.engine;

import java.nio.charset.StandardCharsets;

/**
 * The random draw for one sampled token, as a pure function of (seed, session, turn, position): a retry, a cold
 * recompute on another worker and a resumed stream all draw the same numbers as the original turn would have, with
 * no generator state to carry around.
 */
public final class TokenRandom {
    private TokenRandom() {}

    /** A double in [0, 1): SplitMix64 mixing of the seed, an FNV-1a hash of the session id, the turn and position. */
    public static double uniform(long seed, String sessionId, int turnIndex, int position) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        h = mix(h ^ fnv1a(sessionId));
        h = mix(h ^ (((long) turnIndex << 32) | (position & 0xFFFFFFFFL)));
        return (h >>> 11) * 0x1.0p-53;
    }

    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

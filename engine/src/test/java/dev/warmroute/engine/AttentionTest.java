package dev.warmroute.engine;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The attention kernels (tiles of queries in lanes, a few queries with positions in lanes, masked causal triangle)
 * against the scalar definition, bit for bit, for head dimensions that take every slice width (16, 8, single
 * dimensions), grouped-query sharing, and any split of a chunk's queries into calls.
 */
class AttentionTest {

    @Test
    void everySplitOfAChunkGivesTheDefinitionsBitsForAnyHeadDimension() {
        SplittableRandom r = new SplittableRandom(3);
        for (int hd : new int[] {8, 12, 16, 24, 40, 48, 64}) {
            for (int group : new int[] {1, 2, 3}) {
                for (int[] chunk : new int[][] {{0, 37}, {21, 1}, {40, 19}, {64, 64}, {5, 3}}) {
                    check(hd, group, chunk[0], chunk[1], r);
                }
            }
        }
    }

    private static void check(int hd, int group, int pos0, int m, SplittableRandom r) {
        int kvHeads = 2;
        int heads = kvHeads * group;
        int qDim = heads * hd;
        ModelConfig c = new ModelConfig("t", "llama", qDim, 32, 2, heads, kvHeads, hd, 10, 256, 10000f, 1e-5f,
                "f32", hd);
        KvCache cache = new KvCache(new KvBlockPool(c, c.kvBytesPerToken() * 512), c, "t");
        int n = pos0 + m;
        cache.ensureCapacity(n);
        float[] k = new float[c.kvDim()];
        float[] v = new float[c.kvDim()];
        for (int p = 0; p < n; p++) {
            for (int l = 0; l < c.layers(); l++) {
                for (int i = 0; i < k.length; i++) {
                    k[i] = (float) r.nextGaussian();
                    v[i] = (float) r.nextGaussian();
                }
                cache.store(l, p, k, 0, v, 0);
            }
        }
        float[] q = new float[m * qDim];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (2 * r.nextGaussian());
        }
        int layer = 1;
        float[] expected = new float[m * qDim];
        for (int t = 0; t < m; t++) {
            for (int h = 0; h < heads; h++) {
                Attention.reference(cache, layer, h / group, hd, q, t * qDim + h * hd, pos0 + t + 1, expected,
                        t * qDim + h * hd);
            }
        }
        Attention.Scratch s = new Attention.Scratch(c);
        int queries = m * group;
        for (int split : new int[] {Attention.TILE, 1, 7, 9, 0}) {
            float[] out = new float[m * qDim];
            for (int g = 0; g < kvHeads; g++) {
                for (int first = 0; first < queries; ) {
                    int count = split > 0 ? split : 1 + r.nextInt(Attention.TILE);
                    count = Math.min(count, queries - first);
                    Attention.run(cache, layer, g, group, hd, q, qDim, 0, pos0, first, count, out, s);
                    first += count;
                }
            }
            for (int i = 0; i < out.length; i++) {
                if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(expected[i])) {
                    throw new AssertionError("head dim " + hd + ", group " + group + ", chunk of " + m + " at "
                            + pos0 + ", calls of " + (split > 0 ? split : "random") + " queries: output " + i
                            + " (token " + i / qDim + ", dim " + i % qDim + ") is " + out[i] + ", definition "
                            + expected[i]);
                }
            }
        }
    }
}

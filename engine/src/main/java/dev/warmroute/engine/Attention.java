package dev.warmroute.engine;

import static dev.warmroute.engine.KvBlockPool.BLOCK_TOKENS;

import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention of one query head over the block-structured cache. Scores of the 16 positions of a block are one
 * vector FMA chain over the head dimension (keys are stored transposed per block); the weighted sum of values is one
 * FMA chain over positions per output element. Neither depends on how the positions were appended, so a position's
 * output is the same after any chunking, truncation or import.
 */
final class Attention {
    private Attention() {}

    private static final VectorSpecies<Float> S = Simd.F16;

    /**
     * out[oOff, oOff + headDim) = softmax(q . K[0..pos] / sqrt(headDim)) . V[0..pos] for layer {@code layer}, KV
     * head {@code g}. {@code att} is scratch of at least pos + 1 rounded up to 16 floats.
     */
    static void head(KvCache cache, int layer, int g, int headDim, float[] q, int qOff, int pos, float[] att,
                     float[] out, int oOff) {
        int n = pos + 1;
        int nb = KvCache.blocksFor(n);
        float scale = (float) Math.sqrt(headDim);
        int ko = cache.keyOffset(layer, g);
        int vo = cache.valueOffset(layer, g);
        if (Simd.VECTOR) {
            for (int b = 0; b < nb; b++) {
                float[] blk = cache.blocks.get(b);
                FloatVector acc = FloatVector.zero(S);
                for (int d = 0; d < headDim; d++) {
                    acc = FloatVector.fromArray(S, blk, ko + d * BLOCK_TOKENS)
                            .fma(FloatVector.broadcast(S, q[qOff + d]), acc);
                }
                acc.div(scale).intoArray(att, b * BLOCK_TOKENS);
            }
        } else {
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                int j = p % BLOCK_TOKENS;
                float acc = 0f;
                for (int d = 0; d < headDim; d++) {
                    acc = Math.fma(q[qOff + d], blk[ko + d * BLOCK_TOKENS + j], acc);
                }
                att[p] = acc / scale;
            }
        }
        Ops.softmax(att, 0, n);
        int d0 = 0;
        if (Simd.VECTOR) {
            for (; d0 + 16 <= headDim; d0 += 16) {
                FloatVector acc = FloatVector.zero(S);
                for (int p = 0; p < n; p++) {
                    float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                    int j = p % BLOCK_TOKENS;
                    acc = FloatVector.fromArray(S, blk, vo + j * headDim + d0)
                            .fma(FloatVector.broadcast(S, att[p]), acc);
                }
                acc.intoArray(out, oOff + d0);
            }
        }
        for (int d = d0; d < headDim; d++) {
            float acc = 0f;
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                acc = Math.fma(att[p], blk[vo + (p % BLOCK_TOKENS) * headDim + d], acc);
            }
            out[oOff + d] = acc;
        }
    }
}

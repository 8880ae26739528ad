package dev.warmroute.engine;

import static dev.warmroute.engine.KvBlockPool.BLOCK_TOKENS;

import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention of one query head over the block-structured cache, for a group of up to {@link #GROUP}
 * consecutive query tokens (prefill) or one (decode).
 *
 * <p>What each output is, bit for bit (the scalar path spells it out): score(p) = (sequential FMA chain over d of
 * q[d] * K[p][d]) / sqrt(headDim); softmax over positions 0..pos (see {@link Ops#softmax}); out[d] = sequential FMA
 * chain over p of att[p] * V[p][d]. None of it depends on how positions were appended, so a position's output is
 * the same after any chunking, truncation or import. Speed comes from running independent chains side by side:
 * the queries of a group share each key/value load; a single query interleaves four key blocks, or several
 * 16-wide slices of the head dimension.
 */
final class Attention {
    private Attention() {}

    static final int GROUP = 4;
    private static final VectorSpecies<Float> S = Simd.F16;

    /**
     * Attention for {@code count} (1..4) queries of KV head {@code g}: query i sits at q[qOff + i * qStride], has
     * position pos + i, and writes out[oOff + i * oStride, + headDim). {@code att[i]} is scratch of at least
     * pos + count rounded up to 16 floats.
     */
    static void group(KvCache cache, int layer, int g, int headDim, float[] q, int qOff, int qStride, int count,
                      int pos, float[][] att, float[] out, int oOff, int oStride) {
        float scale = (float) Math.sqrt(headDim);
        int ko = cache.keyOffset(layer, g);
        int vo = cache.valueOffset(layer, g);
        if (!Simd.VECTOR) {
            for (int i = 0; i < count; i++) {
                scalar(cache, ko, vo, headDim, scale, q, qOff + i * qStride, pos + i, att[i], out, oOff + i * oStride);
            }
            return;
        }
        // scores
        if (count == GROUP) {
            scores4(cache, ko, headDim, scale, q, qOff, qStride, pos + GROUP, att);
        } else {
            for (int i = 0; i < count; i++) {
                scores1(cache, ko, headDim, scale, q, qOff + i * qStride, pos + i + 1, att[i]);
            }
        }
        for (int i = 0; i < count; i++) {
            Ops.softmax(att[i], 0, pos + i + 1);
        }
        // weighted values
        if (headDim % 16 != 0) {
            for (int i = 0; i < count; i++) {
                valuesScalar(cache, vo, headDim, 0, pos + i + 1, att[i], out, oOff + i * oStride);
            }
            return;
        }
        if (count == GROUP) {
            values4(cache, vo, headDim, pos + 1, att, out, oOff, oStride);
            // positions only the later queries see: pos + 1 .. pos + i (chains continue in order)
            for (int i = 1; i < GROUP; i++) {
                valuesTail(cache, vo, headDim, pos + 1, pos + i + 1, att[i], out, oOff + i * oStride);
            }
        } else {
            for (int i = 0; i < count; i++) {
                values1(cache, vo, headDim, pos + i + 1, att[i], out, oOff + i * oStride);
            }
        }
    }

    /** Scores of four queries: each key load feeds four chains. Computes whole blocks up to {@code n}. */
    private static void scores4(KvCache cache, int ko, int hd, float scale, float[] q, int qOff, int qs, int n,
                                float[][] att) {
        int q0 = qOff, q1 = qOff + qs, q2 = qOff + 2 * qs, q3 = qOff + 3 * qs;
        float[] t0 = att[0], t1 = att[1], t2 = att[2], t3 = att[3];
        int nb = KvCache.blocksFor(n);
        for (int b = 0; b < nb; b++) {
            float[] blk = cache.blocks.get(b);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, o = ko; d < hd; d++, o += BLOCK_TOKENS) {
                FloatVector k = FloatVector.fromArray(S, blk, o);
                a0 = k.fma(FloatVector.broadcast(S, q[q0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(S, q[q1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(S, q[q2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(S, q[q3 + d]), a3);
            }
            int o = b * BLOCK_TOKENS;
            a0.div(scale).intoArray(t0, o);
            a1.div(scale).intoArray(t1, o);
            a2.div(scale).intoArray(t2, o);
            a3.div(scale).intoArray(t3, o);
        }
    }

    /** Scores of one query: four key blocks side by side. */
    private static void scores1(KvCache cache, int ko, int hd, float scale, float[] q, int qo, int n, float[] att) {
        int nb = KvCache.blocksFor(n);
        int b = 0;
        for (; b + 4 <= nb; b += 4) {
            float[] k0 = cache.blocks.get(b), k1 = cache.blocks.get(b + 1), k2 = cache.blocks.get(b + 2),
                    k3 = cache.blocks.get(b + 3);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, o = ko; d < hd; d++, o += BLOCK_TOKENS) {
                FloatVector x = FloatVector.broadcast(S, q[qo + d]);
                a0 = FloatVector.fromArray(S, k0, o).fma(x, a0);
                a1 = FloatVector.fromArray(S, k1, o).fma(x, a1);
                a2 = FloatVector.fromArray(S, k2, o).fma(x, a2);
                a3 = FloatVector.fromArray(S, k3, o).fma(x, a3);
            }
            int o = b * BLOCK_TOKENS;
            a0.div(scale).intoArray(att, o);
            a1.div(scale).intoArray(att, o + 16);
            a2.div(scale).intoArray(att, o + 32);
            a3.div(scale).intoArray(att, o + 48);
        }
        for (; b < nb; b++) {
            float[] blk = cache.blocks.get(b);
            FloatVector a = FloatVector.zero(S);
            for (int d = 0, o = ko; d < hd; d++, o += BLOCK_TOKENS) {
                a = FloatVector.fromArray(S, blk, o).fma(FloatVector.broadcast(S, q[qo + d]), a);
            }
            a.div(scale).intoArray(att, b * BLOCK_TOKENS);
        }
    }

    /**
     * Values of four queries over positions 0..n-1, which all four see. Up to 64 dimensions per pass: each value load
     * feeds four chains and each attention weight is broadcast once for up to 16 chains. The tests on {@code c1..c3}
     * are loop-invariant (C2 unswitches them).
     */
    private static void values4(KvCache cache, int vo, int hd, int n, float[][] att, float[] out, int oOff, int os) {
        float[] t0 = att[0], t1 = att[1], t2 = att[2], t3 = att[3];
        for (int c = 0; c < hd; c += 64) {
            int slices = Math.min(4, (hd - c) / 16);
            boolean c1 = slices > 1, c2 = slices > 2, c3 = slices > 3;
            FloatVector z = FloatVector.zero(S);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                int o = vo + (p % BLOCK_TOKENS) * hd + c;
                FloatVector b0 = FloatVector.broadcast(S, t0[p]);
                FloatVector b1 = FloatVector.broadcast(S, t1[p]);
                FloatVector b2 = FloatVector.broadcast(S, t2[p]);
                FloatVector b3 = FloatVector.broadcast(S, t3[p]);
                FloatVector v = FloatVector.fromArray(S, blk, o);
                a00 = v.fma(b0, a00);
                a10 = v.fma(b1, a10);
                a20 = v.fma(b2, a20);
                a30 = v.fma(b3, a30);
                if (c1) {
                    v = FloatVector.fromArray(S, blk, o + 16);
                    a01 = v.fma(b0, a01);
                    a11 = v.fma(b1, a11);
                    a21 = v.fma(b2, a21);
                    a31 = v.fma(b3, a31);
                }
                if (c2) {
                    v = FloatVector.fromArray(S, blk, o + 32);
                    a02 = v.fma(b0, a02);
                    a12 = v.fma(b1, a12);
                    a22 = v.fma(b2, a22);
                    a32 = v.fma(b3, a32);
                }
                if (c3) {
                    v = FloatVector.fromArray(S, blk, o + 48);
                    a03 = v.fma(b0, a03);
                    a13 = v.fma(b1, a13);
                    a23 = v.fma(b2, a23);
                    a33 = v.fma(b3, a33);
                }
            }
            int o0 = oOff + c, o1 = o0 + os, o2 = o0 + 2 * os, o3 = o0 + 3 * os;
            a00.intoArray(out, o0);
            a10.intoArray(out, o1);
            a20.intoArray(out, o2);
            a30.intoArray(out, o3);
            if (c1) {
                a01.intoArray(out, o0 + 16);
                a11.intoArray(out, o1 + 16);
                a21.intoArray(out, o2 + 16);
                a31.intoArray(out, o3 + 16);
            }
            if (c2) {
                a02.intoArray(out, o0 + 32);
                a12.intoArray(out, o1 + 32);
                a22.intoArray(out, o2 + 32);
                a32.intoArray(out, o3 + 32);
            }
            if (c3) {
                a03.intoArray(out, o0 + 48);
                a13.intoArray(out, o1 + 48);
                a23.intoArray(out, o2 + 48);
                a33.intoArray(out, o3 + 48);
            }
        }
    }

    /** Continues the chains in out[oOff..] over positions from..to-1. */
    private static void valuesTail(KvCache cache, int vo, int hd, int from, int to, float[] att, float[] out,
                                   int oOff) {
        for (int c = 0; c < hd; c += 16) {
            FloatVector a = FloatVector.fromArray(S, out, oOff + c);
            for (int p = from; p < to; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                a = FloatVector.fromArray(S, blk, vo + (p % BLOCK_TOKENS) * hd + c)
                        .fma(FloatVector.broadcast(S, att[p]), a);
            }
            a.intoArray(out, oOff + c);
        }
    }

    /** Values of one query: up to four 16-wide slices of the head dimension side by side. */
    private static void values1(KvCache cache, int vo, int hd, int n, float[] att, float[] out, int oOff) {
        int c = 0;
        for (; c + 64 <= hd; c += 64) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                int o = vo + (p % BLOCK_TOKENS) * hd + c;
                FloatVector x = FloatVector.broadcast(S, att[p]);
                a0 = FloatVector.fromArray(S, blk, o).fma(x, a0);
                a1 = FloatVector.fromArray(S, blk, o + 16).fma(x, a1);
                a2 = FloatVector.fromArray(S, blk, o + 32).fma(x, a2);
                a3 = FloatVector.fromArray(S, blk, o + 48).fma(x, a3);
            }
            a0.intoArray(out, oOff + c);
            a1.intoArray(out, oOff + c + 16);
            a2.intoArray(out, oOff + c + 32);
            a3.intoArray(out, oOff + c + 48);
        }
        for (; c + 32 <= hd; c += 32) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0;
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                int o = vo + (p % BLOCK_TOKENS) * hd + c;
                FloatVector x = FloatVector.broadcast(S, att[p]);
                a0 = FloatVector.fromArray(S, blk, o).fma(x, a0);
                a1 = FloatVector.fromArray(S, blk, o + 16).fma(x, a1);
            }
            a0.intoArray(out, oOff + c);
            a1.intoArray(out, oOff + c + 16);
        }
        for (; c < hd; c += 16) {
            FloatVector a = FloatVector.zero(S);
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                a = FloatVector.fromArray(S, blk, vo + (p % BLOCK_TOKENS) * hd + c)
                        .fma(FloatVector.broadcast(S, att[p]), a);
            }
            a.intoArray(out, oOff + c);
        }
    }

    private static void valuesScalar(KvCache cache, int vo, int hd, int from, int n, float[] att, float[] out,
                                     int oOff) {
        for (int d = 0; d < hd; d++) {
            float acc = 0f;
            for (int p = from; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                acc = Math.fma(att[p], blk[vo + (p % BLOCK_TOKENS) * hd + d], acc);
            }
            out[oOff + d] = acc;
        }
    }

    /** The definition, one scalar operation at a time. */
    private static void scalar(KvCache cache, int ko, int vo, int hd, float scale, float[] q, int qo, int pos,
                               float[] att, float[] out, int oOff) {
        int n = pos + 1;
        for (int p = 0; p < n; p++) {
            float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
            int j = p % BLOCK_TOKENS;
            float acc = 0f;
            for (int d = 0; d < hd; d++) {
                acc = Math.fma(q[qo + d], blk[ko + d * BLOCK_TOKENS + j], acc);
            }
            att[p] = acc / scale;
        }
        Ops.softmax(att, 0, n);
        valuesScalar(cache, vo, hd, 0, n, att, out, oOff);
    }
}

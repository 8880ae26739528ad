package dev.warmroute.engine;

import static dev.warmroute.engine.KvBlockPool.BLOCK_TOKENS;

import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.Simd;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention over the block-structured cache, for the queries of one KV head in a chunk of
 * consecutive tokens.
 *
 * <p>What each output is, bit for bit (the scalar path spells it out): score(p) = (sequential FMA chain over d of
 * q[d] * K[p][d]) / sqrt(headDim); softmax over positions 0..pos (see {@link Ops#softmax}: exact max, our exp,
 * sums partitioned by position mod 16, division); out[d] = sequential FMA chain over p of att[p] * V[p][d]. Every
 * chain belongs to one query and runs over positions (or dimensions) in order, so a query's output does not depend
 * on which other queries share its chunk: warm, cold and token-by-token give the same bits.
 *
 * <p>Two kernels compute that definition:
 * <ul>
 *   <li>A <b>tile</b> of up to 16 queries (a prefill chunk: tokens x the query heads sharing this KV head) puts one
 *   query in each vector lane. Each key and value element is then loaded once per tile and broadcast to 16 chains,
 *   every lane does useful work whatever the head dimension (8 for the reference model), and softmax runs 16
 *   queries per vector. The causal triangle inside the chunk is handled by lane masks: a lane never adds a position
 *   past its own.</li>
 *   <li>A few queries (decode, remainders) run with positions in the lanes instead: 16 positions' scores are 16
 *   chains over d, and the value chains of all queries and vector-wide slices of the head dimension are interleaved
 *   four at a time so that the FMA latency is hidden even for a single query.</li>
 * </ul>
 * A group of 16 lanes is one 512-bit vector, or two 256-bit or four 128-bit ones processed one after the other:
 * every lane is its own chain, so the width changes only how many lanes run side by side, never a result.
 */
final class Attention {
    private Attention() {}

    /** Queries per tile: one per lane. */
    static final int TILE = 16;
    /** Fewer queries than this go through the per-query kernel (a tile would leave most lanes idle). */
    static final int TILE_MIN = 8;
    private static final VectorSpecies<Float> S = Simd.S;
    /** Lanes per vector: a 16-lane group (a tile's queries, a block's positions) is 16 / V vectors. */
    private static final int V = Simd.LANES;
    /** 8-wide slices of the head dimension when the vectors hold 16. */
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    /** 16 value chains in registers need 32 of them; with 16 the tile's value pass runs 8 dimensions at a time. */
    private static final boolean VALUES16 = Simd.MANY_REGISTERS;

    /** Scratch of one thread, sized for the model's context. */
    static final class Scratch {
        final float[] w;     // (positions rounded up to 16, TILE): scores, then weights; one position per vector
        final float[] qt;    // (headDim, TILE): the tile's queries, transposed
        final float[] acc;   // (16, TILE): a slice of the tile's outputs before they are transposed back
        final float[] parts; // (16, TILE): softmax partial sums by position mod 16
        final float[][] att; // (TILE_MIN, positions rounded up to 16): weights of the per-query kernel
        final int[] qOff = new int[TILE];
        final int[] n = new int[TILE];
        final float[] limit = new float[TILE];

        Scratch(ModelConfig c) {
            int positions = (c.contextLength() + BLOCK_TOKENS - 1) / BLOCK_TOKENS * BLOCK_TOKENS + BLOCK_TOKENS;
            w = new float[positions * TILE];
            qt = new float[c.headDim() * TILE];
            acc = new float[16 * TILE];
            parts = new float[16 * TILE];
            att = new float[TILE_MIN][positions];
        }
    }

    /**
     * Attention for queries [first, first + count) of KV head {@code g} in a chunk of tokens whose first is row
     * {@code row0} of q and sits at position pos0: query u is token u / group of the chunk (row row0 + u / group,
     * position pos0 + u / group) and query head g * group + u % group; it reads q at (row * qDim + head * headDim)
     * and writes out at the same offset. The cache holds the chunk's keys and values already.
     */
    static void run(KvCache cache, int layer, int g, int group, int hd, float[] q, int qDim, int row0, int pos0,
                    int first, int count, float[] out, Scratch s) {
        float scale = (float) Math.sqrt(hd);
        int ko = cache.keyOffset(layer, g);
        int vo = cache.valueOffset(layer, g);
        for (int i = 0; i < count; i++) {
            int u = first + i;
            s.qOff[i] = (row0 + u / group) * qDim + (g * group + u % group) * hd;
            s.n[i] = pos0 + u / group + 1;
        }
        if (!Simd.VECTOR) {
            for (int i = 0; i < count; i++) {
                scalar(cache, ko, vo, hd, scale, q, s.qOff[i], s.n[i], s.att[0], out, s.qOff[i]);
            }
            return;
        }
        if (count >= TILE_MIN) {
            tile(cache.blocks, ko, vo, hd, scale, q, count, out, s);
        } else {
            few(cache.blocks, ko, vo, hd, scale, q, count, out, s);
        }
    }

    // ---- tile: one query per lane ------------------------------------------------------------------------------

    private static void tile(List<float[]> blocks, int ko, int vo, int hd, float scale, float[] q, int count,
                             float[] out, Scratch s) {
        // Idle lanes repeat the last query (computed, never written). Lanes are in token order: n is non-decreasing.
        for (int i = count; i < TILE; i++) {
            s.qOff[i] = s.qOff[count - 1];
            s.n[i] = s.n[count - 1];
        }
        for (int i = 0; i < TILE; i++) {
            s.limit[i] = s.n[i];
            for (int d = 0; d < hd; d++) {
                s.qt[d * TILE + i] = q[s.qOff[i] + d];
            }
        }
        float[] w = s.w;
        // The 16 lanes, V at a time (lanes [lo, lo + V) of every row of qt, w, parts and acc).
        for (int lo = 0; lo < TILE && lo < count; lo += V) {
            int nMin = s.n[lo];
            int nMax = s.n[lo + V - 1];
            FloatVector limit = FloatVector.fromArray(S, s.limit, lo);
            FloatVector max = tileScores(blocks, ko, hd, scale, nMin, nMax, limit, s.qt, w, lo);
            tileSoftmax(nMin, nMax, limit, max, w, s.parts, lo);

            // Pass 3: values, a slice of the head dimension at a time (one chain per lane and dimension).
            int d0 = 0;
            if (VALUES16) {
                for (; d0 + 16 <= hd; d0 += 16) {
                    tileValues16(blocks, vo, hd, d0, nMin, nMax, limit, w, s.acc, lo);
                    scatter(s, 16, d0, lo, count, out);
                }
            }
            for (; d0 + 8 <= hd; d0 += 8) {
                tileValues8(blocks, vo, hd, d0, nMin, nMax, limit, w, s.acc, lo);
                scatter(s, 8, d0, lo, count, out);
            }
            for (; d0 < hd; d0++) {
                tileValues1(blocks, vo, hd, d0, nMin, nMax, limit, w, s.acc, lo);
                scatter(s, 1, d0, lo, count, out);
            }
        }
    }

    /**
     * Pass 1: the scores of lanes [lo, lo + V) into w, 8 positions at a time (8 chains over d per lane), and the max
     * over each lane's own positions. (Each pass is a method of its own: small enough for C2 to inline the vector
     * operations.)
     */
    private static FloatVector tileScores(List<float[]> blocks, int ko, int hd, float scale, int nMin, int nMax,
                                          FloatVector limit, float[] qt, float[] w, int lo) {
        FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int nb = KvCache.blocksFor(nMax);
        for (int b = 0; b < nb; b++) {
            float[] blk = blocks.get(b);
            for (int j0 = 0; j0 < BLOCK_TOKENS; j0 += 8) {
                int p0 = b * BLOCK_TOKENS + j0;
                if (p0 >= nMax) {
                    break;
                }
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int d = 0, o = ko + j0; d < hd; d++, o += BLOCK_TOKENS) {
                    FloatVector qv = FloatVector.fromArray(S, qt, d * TILE + lo);
                    a0 = qv.fma(FloatVector.broadcast(S, blk[o]), a0);
                    a1 = qv.fma(FloatVector.broadcast(S, blk[o + 1]), a1);
                    a2 = qv.fma(FloatVector.broadcast(S, blk[o + 2]), a2);
                    a3 = qv.fma(FloatVector.broadcast(S, blk[o + 3]), a3);
                    a4 = qv.fma(FloatVector.broadcast(S, blk[o + 4]), a4);
                    a5 = qv.fma(FloatVector.broadcast(S, blk[o + 5]), a5);
                    a6 = qv.fma(FloatVector.broadcast(S, blk[o + 6]), a6);
                    a7 = qv.fma(FloatVector.broadcast(S, blk[o + 7]), a7);
                }
                int wo = p0 * TILE + lo;
                a0 = a0.div(scale);
                a1 = a1.div(scale);
                a2 = a2.div(scale);
                a3 = a3.div(scale);
                a4 = a4.div(scale);
                a5 = a5.div(scale);
                a6 = a6.div(scale);
                a7 = a7.div(scale);
                a0.intoArray(w, wo);
                a1.intoArray(w, wo + TILE);
                a2.intoArray(w, wo + 2 * TILE);
                a3.intoArray(w, wo + 3 * TILE);
                a4.intoArray(w, wo + 4 * TILE);
                a5.intoArray(w, wo + 5 * TILE);
                a6.intoArray(w, wo + 6 * TILE);
                a7.intoArray(w, wo + 7 * TILE);
                if (p0 + 8 <= nMin) {
                    max = max.max(a0).max(a1).max(a2).max(a3).max(a4).max(a5).max(a6).max(a7);
                } else {
                    for (int j = 0; j < 8 && p0 + j < nMax; j++) {
                        FloatVector v = FloatVector.fromArray(S, w, wo + j * TILE);
                        max = p0 + j < nMin ? max.max(v) : max.blend(max.max(v), sees(limit, p0 + j));
                    }
                }
            }
        }
        return max;
    }

    /**
     * Pass 2, lanes [lo, lo + V): w = exp(w - max) (0 past a lane's position), summed by position mod 16 in order;
     * then w / sum.
     */
    private static void tileSoftmax(int nMin, int nMax, FloatVector limit, FloatVector max, float[] w, float[] parts,
                                    int lo) {
        java.util.Arrays.fill(parts, 0f);
        for (int p = 0; p < nMax; p++) {
            int wo = p * TILE + lo;
            FloatVector e = Ops.exp(FloatVector.fromArray(S, w, wo).sub(max));
            if (p >= nMin) {
                e = FloatVector.zero(S).blend(e, sees(limit, p));
            }
            e.intoArray(w, wo);
            int po = (p & 15) * TILE + lo;
            FloatVector.fromArray(S, parts, po).add(e).intoArray(parts, po);
        }
        FloatVector sum = FloatVector.zero(S);
        for (int r = 0; r < 16; r++) {
            sum = sum.add(FloatVector.fromArray(S, parts, r * TILE + lo));
        }
        for (int p = 0; p < nMax; p++) {
            FloatVector.fromArray(S, w, p * TILE + lo).div(sum).intoArray(w, p * TILE + lo);
        }
    }

    /** Lanes whose query sees position p. */
    private static VectorMask<Float> sees(FloatVector limit, int p) {
        return limit.compare(VectorOperators.GT, (float) p);
    }

    /** out[query i][d0 + j] = acc[j][i] for the lanes [lo, lo + V) that hold queries. */
    private static void scatter(Scratch s, int width, int d0, int lo, int count, float[] out) {
        int end = Math.min(count, lo + V);
        for (int j = 0; j < width; j++) {
            for (int i = lo; i < end; i++) {
                out[s.qOff[i] + d0 + j] = s.acc[j * TILE + i];
            }
        }
    }

    private static void tileValues16(List<float[]> blocks, int vo, int hd, int d0, int nMin, int nMax,
                                     FloatVector limit, float[] w, float[] acc, int lo) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        FloatVector a8 = z, a9 = z, a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z;
        int p = 0;
        while (p < nMin) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int end = Math.min(nMin, (p / BLOCK_TOKENS + 1) * BLOCK_TOKENS);
            for (int o = vo + (p % BLOCK_TOKENS) * hd + d0; p < end; p++, o += hd) {
                FloatVector t = FloatVector.fromArray(S, w, p * TILE + lo);
                a0 = t.fma(FloatVector.broadcast(S, blk[o]), a0);
                a1 = t.fma(FloatVector.broadcast(S, blk[o + 1]), a1);
                a2 = t.fma(FloatVector.broadcast(S, blk[o + 2]), a2);
                a3 = t.fma(FloatVector.broadcast(S, blk[o + 3]), a3);
                a4 = t.fma(FloatVector.broadcast(S, blk[o + 4]), a4);
                a5 = t.fma(FloatVector.broadcast(S, blk[o + 5]), a5);
                a6 = t.fma(FloatVector.broadcast(S, blk[o + 6]), a6);
                a7 = t.fma(FloatVector.broadcast(S, blk[o + 7]), a7);
                a8 = t.fma(FloatVector.broadcast(S, blk[o + 8]), a8);
                a9 = t.fma(FloatVector.broadcast(S, blk[o + 9]), a9);
                a10 = t.fma(FloatVector.broadcast(S, blk[o + 10]), a10);
                a11 = t.fma(FloatVector.broadcast(S, blk[o + 11]), a11);
                a12 = t.fma(FloatVector.broadcast(S, blk[o + 12]), a12);
                a13 = t.fma(FloatVector.broadcast(S, blk[o + 13]), a13);
                a14 = t.fma(FloatVector.broadcast(S, blk[o + 14]), a14);
                a15 = t.fma(FloatVector.broadcast(S, blk[o + 15]), a15);
            }
        }
        // The causal triangle: a lane keeps its chain unchanged past its own position.
        for (; p < nMax; p++) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int o = vo + (p % BLOCK_TOKENS) * hd + d0;
            FloatVector t = FloatVector.fromArray(S, w, p * TILE + lo);
            VectorMask<Float> m = sees(limit, p);
            a0 = a0.blend(t.fma(FloatVector.broadcast(S, blk[o]), a0), m);
            a1 = a1.blend(t.fma(FloatVector.broadcast(S, blk[o + 1]), a1), m);
            a2 = a2.blend(t.fma(FloatVector.broadcast(S, blk[o + 2]), a2), m);
            a3 = a3.blend(t.fma(FloatVector.broadcast(S, blk[o + 3]), a3), m);
            a4 = a4.blend(t.fma(FloatVector.broadcast(S, blk[o + 4]), a4), m);
            a5 = a5.blend(t.fma(FloatVector.broadcast(S, blk[o + 5]), a5), m);
            a6 = a6.blend(t.fma(FloatVector.broadcast(S, blk[o + 6]), a6), m);
            a7 = a7.blend(t.fma(FloatVector.broadcast(S, blk[o + 7]), a7), m);
            a8 = a8.blend(t.fma(FloatVector.broadcast(S, blk[o + 8]), a8), m);
            a9 = a9.blend(t.fma(FloatVector.broadcast(S, blk[o + 9]), a9), m);
            a10 = a10.blend(t.fma(FloatVector.broadcast(S, blk[o + 10]), a10), m);
            a11 = a11.blend(t.fma(FloatVector.broadcast(S, blk[o + 11]), a11), m);
            a12 = a12.blend(t.fma(FloatVector.broadcast(S, blk[o + 12]), a12), m);
            a13 = a13.blend(t.fma(FloatVector.broadcast(S, blk[o + 13]), a13), m);
            a14 = a14.blend(t.fma(FloatVector.broadcast(S, blk[o + 14]), a14), m);
            a15 = a15.blend(t.fma(FloatVector.broadcast(S, blk[o + 15]), a15), m);
        }
        a0.intoArray(acc, lo);
        a1.intoArray(acc, TILE + lo);
        a2.intoArray(acc, 2 * TILE + lo);
        a3.intoArray(acc, 3 * TILE + lo);
        a4.intoArray(acc, 4 * TILE + lo);
        a5.intoArray(acc, 5 * TILE + lo);
        a6.intoArray(acc, 6 * TILE + lo);
        a7.intoArray(acc, 7 * TILE + lo);
        a8.intoArray(acc, 8 * TILE + lo);
        a9.intoArray(acc, 9 * TILE + lo);
        a10.intoArray(acc, 10 * TILE + lo);
        a11.intoArray(acc, 11 * TILE + lo);
        a12.intoArray(acc, 12 * TILE + lo);
        a13.intoArray(acc, 13 * TILE + lo);
        a14.intoArray(acc, 14 * TILE + lo);
        a15.intoArray(acc, 15 * TILE + lo);
    }

    private static void tileValues8(List<float[]> blocks, int vo, int hd, int d0, int nMin, int nMax,
                                    FloatVector limit, float[] w, float[] acc, int lo) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        int p = 0;
        while (p < nMin) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int end = Math.min(nMin, (p / BLOCK_TOKENS + 1) * BLOCK_TOKENS);
            for (int o = vo + (p % BLOCK_TOKENS) * hd + d0; p < end; p++, o += hd) {
                FloatVector t = FloatVector.fromArray(S, w, p * TILE + lo);
                a0 = t.fma(FloatVector.broadcast(S, blk[o]), a0);
                a1 = t.fma(FloatVector.broadcast(S, blk[o + 1]), a1);
                a2 = t.fma(FloatVector.broadcast(S, blk[o + 2]), a2);
                a3 = t.fma(FloatVector.broadcast(S, blk[o + 3]), a3);
                a4 = t.fma(FloatVector.broadcast(S, blk[o + 4]), a4);
                a5 = t.fma(FloatVector.broadcast(S, blk[o + 5]), a5);
                a6 = t.fma(FloatVector.broadcast(S, blk[o + 6]), a6);
                a7 = t.fma(FloatVector.broadcast(S, blk[o + 7]), a7);
            }
        }
        for (; p < nMax; p++) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int o = vo + (p % BLOCK_TOKENS) * hd + d0;
            FloatVector t = FloatVector.fromArray(S, w, p * TILE + lo);
            VectorMask<Float> m = sees(limit, p);
            a0 = a0.blend(t.fma(FloatVector.broadcast(S, blk[o]), a0), m);
            a1 = a1.blend(t.fma(FloatVector.broadcast(S, blk[o + 1]), a1), m);
            a2 = a2.blend(t.fma(FloatVector.broadcast(S, blk[o + 2]), a2), m);
            a3 = a3.blend(t.fma(FloatVector.broadcast(S, blk[o + 3]), a3), m);
            a4 = a4.blend(t.fma(FloatVector.broadcast(S, blk[o + 4]), a4), m);
            a5 = a5.blend(t.fma(FloatVector.broadcast(S, blk[o + 5]), a5), m);
            a6 = a6.blend(t.fma(FloatVector.broadcast(S, blk[o + 6]), a6), m);
            a7 = a7.blend(t.fma(FloatVector.broadcast(S, blk[o + 7]), a7), m);
        }
        a0.intoArray(acc, lo);
        a1.intoArray(acc, TILE + lo);
        a2.intoArray(acc, 2 * TILE + lo);
        a3.intoArray(acc, 3 * TILE + lo);
        a4.intoArray(acc, 4 * TILE + lo);
        a5.intoArray(acc, 5 * TILE + lo);
        a6.intoArray(acc, 6 * TILE + lo);
        a7.intoArray(acc, 7 * TILE + lo);
    }

    /** One dimension (head dimensions that are not a multiple of 8). */
    private static void tileValues1(List<float[]> blocks, int vo, int hd, int d, int nMin, int nMax,
                                    FloatVector limit, float[] w, float[] acc, int lo) {
        FloatVector a = FloatVector.zero(S);
        for (int p = 0; p < nMax; p++) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            FloatVector f = FloatVector.fromArray(S, w, p * TILE + lo)
                    .fma(FloatVector.broadcast(S, blk[vo + (p % BLOCK_TOKENS) * hd + d]), a);
            a = p < nMin ? f : a.blend(f, sees(limit, p));
        }
        a.intoArray(acc, lo);
    }

    // ---- a few queries: positions in the lanes -------------------------------------------------------------------

    private static void few(List<float[]> blocks, int ko, int vo, int hd, float scale, float[] q, int count,
                            float[] out, Scratch s) {
        int nMin = Integer.MAX_VALUE;
        for (int i = 0; i < count; i++) {
            scores1(blocks, ko, hd, scale, q, s.qOff[i], s.n[i], s.att[i]);
            Ops.softmax(s.att[i], 0, s.n[i]);
            nMin = Math.min(nMin, s.n[i]);
        }
        // Chains (query, slice of V dimensions): four at a time over the positions every query sees, then each
        // query's own tail.
        int slices = hd / V;
        int chains = slices * count;
        for (int c = 0; c < chains; c += 4) {
            values4(blocks, vo, hd, nMin, s, out, slices, c, Math.min(c + 1, chains - 1),
                    Math.min(c + 2, chains - 1), Math.min(c + 3, chains - 1));
        }
        int base8 = slices * V;
        boolean rest8 = V == 16 && hd - base8 >= 8;
        if (rest8) {
            for (int c = 0; c < count; c += 4) {
                values4x8(blocks, vo, hd, nMin, s, out, 1, 8, base8, c, Math.min(c + 1, count - 1),
                        Math.min(c + 2, count - 1), Math.min(c + 3, count - 1));
            }
        }
        int scalarFrom = base8 + (rest8 ? 8 : 0);
        for (int i = 0; i < count; i++) {
            int n = s.n[i];
            if (n > nMin) {
                for (int d = 0; d < base8; d += V) {
                    tail(blocks, vo, hd, d, nMin, n, s.att[i], out, s.qOff[i]);
                }
                if (rest8) {
                    tail8(blocks, vo, hd, base8, nMin, n, s.att[i], out, s.qOff[i]);
                }
            }
            for (int d = scalarFrom; d < hd; d++) { // head dimensions that are not a multiple of the width
                float a = 0f;
                for (int p = 0; p < n; p++) {
                    a = Math.fma(s.att[i][p], blocks.get(p / BLOCK_TOKENS)[vo + (p % BLOCK_TOKENS) * hd + d], a);
                }
                out[s.qOff[i] + d] = a;
            }
        }
    }

    /**
     * Four value chains over positions 0..n-1: chain c is query c / slices, dimensions [(c % slices) * V, + V).
     * Chains may repeat (fewer than four left): a repeated chain writes the same bits twice.
     */
    private static void values4(List<float[]> blocks, int vo, int hd, int n, Scratch s, float[] out, int slices,
                                int c0, int c1, int c2, int c3) {
        float[] t0 = s.att[c0 / slices], t1 = s.att[c1 / slices], t2 = s.att[c2 / slices], t3 = s.att[c3 / slices];
        int d0 = (c0 % slices) * V, d1 = (c1 % slices) * V, d2 = (c2 % slices) * V, d3 = (c3 % slices) * V;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int p = 0;
        while (p < n) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int end = Math.min(n, (p / BLOCK_TOKENS + 1) * BLOCK_TOKENS);
            for (int o = vo + (p % BLOCK_TOKENS) * hd; p < end; p++, o += hd) {
                a0 = FloatVector.fromArray(S, blk, o + d0).fma(FloatVector.broadcast(S, t0[p]), a0);
                a1 = FloatVector.fromArray(S, blk, o + d1).fma(FloatVector.broadcast(S, t1[p]), a1);
                a2 = FloatVector.fromArray(S, blk, o + d2).fma(FloatVector.broadcast(S, t2[p]), a2);
                a3 = FloatVector.fromArray(S, blk, o + d3).fma(FloatVector.broadcast(S, t3[p]), a3);
            }
        }
        a0.intoArray(out, s.qOff[c0 / slices] + d0);
        a1.intoArray(out, s.qOff[c1 / slices] + d1);
        a2.intoArray(out, s.qOff[c2 / slices] + d2);
        a3.intoArray(out, s.qOff[c3 / slices] + d3);
    }

    /** Continues the chains of out[oOff + d0, + V) over positions from..to-1. */
    private static void tail(List<float[]> blocks, int vo, int hd, int d0, int from, int to,
                             float[] att, float[] out, int oOff) {
        if (from >= to) {
            return;
        }
        FloatVector a = FloatVector.fromArray(S, out, oOff + d0);
        for (int p = from; p < to; p++) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            a = FloatVector.fromArray(S, blk, vo + (p % BLOCK_TOKENS) * hd + d0)
                    .fma(FloatVector.broadcast(S, att[p]), a);
        }
        a.intoArray(out, oOff + d0);
    }

    /** {@link #values4} with 8-wide slices at 512-bit (the Vector API needs a constant species to compile well). */
    private static void values4x8(List<float[]> blocks, int vo, int hd, int n, Scratch s,
                                float[] out, int slices, int width, int base, int c0, int c1, int c2, int c3) {
        float[] t0 = s.att[c0 / slices], t1 = s.att[c1 / slices], t2 = s.att[c2 / slices], t3 = s.att[c3 / slices];
        int d0 = base + (c0 % slices) * width, d1 = base + (c1 % slices) * width, d2 = base + (c2 % slices) * width,
                d3 = base + (c3 % slices) * width;
        FloatVector a0 = FloatVector.zero(S8), a1 = a0, a2 = a0, a3 = a0;
        int p = 0;
        while (p < n) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            int end = Math.min(n, (p / BLOCK_TOKENS + 1) * BLOCK_TOKENS);
            for (int o = vo + (p % BLOCK_TOKENS) * hd; p < end; p++, o += hd) {
                a0 = FloatVector.fromArray(S8, blk, o + d0).fma(FloatVector.broadcast(S8, t0[p]), a0);
                a1 = FloatVector.fromArray(S8, blk, o + d1).fma(FloatVector.broadcast(S8, t1[p]), a1);
                a2 = FloatVector.fromArray(S8, blk, o + d2).fma(FloatVector.broadcast(S8, t2[p]), a2);
                a3 = FloatVector.fromArray(S8, blk, o + d3).fma(FloatVector.broadcast(S8, t3[p]), a3);
            }
        }
        a0.intoArray(out, s.qOff[c0 / slices] + d0);
        a1.intoArray(out, s.qOff[c1 / slices] + d1);
        a2.intoArray(out, s.qOff[c2 / slices] + d2);
        a3.intoArray(out, s.qOff[c3 / slices] + d3);
    }

    /** {@link #tail} with an 8-wide slice. */
    private static void tail8(List<float[]> blocks, int vo, int hd, int d0, int from, int to,
                             float[] att, float[] out, int oOff) {
        if (from >= to) {
            return;
        }
        FloatVector a = FloatVector.fromArray(S8, out, oOff + d0);
        for (int p = from; p < to; p++) {
            float[] blk = blocks.get(p / BLOCK_TOKENS);
            a = FloatVector.fromArray(S8, blk, vo + (p % BLOCK_TOKENS) * hd + d0)
                    .fma(FloatVector.broadcast(S8, att[p]), a);
        }
        a.intoArray(out, oOff + d0);
    }

    /**
     * Scores of one query over whole blocks up to n: four key blocks side by side, the 16 positions of a block V at
     * a time.
     */
    private static void scores1(List<float[]> blocks, int ko, int hd, float scale, float[] q, int qo, int n,
                                float[] att) {
        int nb = KvCache.blocksFor(n);
        int b = 0;
        for (; b + 4 <= nb; b += 4) {
            float[] k0 = blocks.get(b), k1 = blocks.get(b + 1), k2 = blocks.get(b + 2), k3 = blocks.get(b + 3);
            for (int j = 0; j < BLOCK_TOKENS; j += V) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0, o = ko + j; d < hd; d++, o += BLOCK_TOKENS) {
                    FloatVector x = FloatVector.broadcast(S, q[qo + d]);
                    a0 = FloatVector.fromArray(S, k0, o).fma(x, a0);
                    a1 = FloatVector.fromArray(S, k1, o).fma(x, a1);
                    a2 = FloatVector.fromArray(S, k2, o).fma(x, a2);
                    a3 = FloatVector.fromArray(S, k3, o).fma(x, a3);
                }
                int o = b * BLOCK_TOKENS + j;
                a0.div(scale).intoArray(att, o);
                a1.div(scale).intoArray(att, o + 16);
                a2.div(scale).intoArray(att, o + 32);
                a3.div(scale).intoArray(att, o + 48);
            }
        }
        for (; b < nb; b++) {
            float[] blk = blocks.get(b);
            for (int j = 0; j < BLOCK_TOKENS; j += V) {
                FloatVector a = FloatVector.zero(S);
                for (int d = 0, o = ko + j; d < hd; d++, o += BLOCK_TOKENS) {
                    a = FloatVector.fromArray(S, blk, o).fma(FloatVector.broadcast(S, q[qo + d]), a);
                }
                a.div(scale).intoArray(att, b * BLOCK_TOKENS + j);
            }
        }
    }

    /** The definition for one query (tests): q at qo sees positions 0..n-1; writes out[oOff, + headDim). */
    static void reference(KvCache cache, int layer, int g, int hd, float[] q, int qo, int n, float[] out, int oOff) {
        float[] att = new float[n];
        scalar(cache, cache.keyOffset(layer, g), cache.valueOffset(layer, g), hd, (float) Math.sqrt(hd), q, qo, n, att,
                out, oOff);
    }

    /** The definition, one scalar operation at a time, for one query that sees positions 0..n-1. */
    private static void scalar(KvCache cache, int ko, int vo, int hd, float scale, float[] q, int qo, int n,
                               float[] att, float[] out, int oOff) {
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
        for (int d = 0; d < hd; d++) {
            float acc = 0f;
            for (int p = 0; p < n; p++) {
                float[] blk = cache.blocks.get(p / BLOCK_TOKENS);
                acc = Math.fma(att[p], blk[vo + (p % BLOCK_TOKENS) * hd + d], acc);
            }
            out[oOff + d] = acc;
        }
    }
}

package dev.warmroute.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise and reduction kernels, each with a Vector API body and a scalar twin that computes the same bits.
 *
 * <p>Bitwise determinism rule of the engine: every float result is a fixed sequence of IEEE basic operations (add,
 * mul, div, sqrt, fma) that depends only on the values it combines, never on batch size, thread split, compilation
 * tier or vector width. So: no {@code reduceLanes} (its order is unspecified), no {@code Math.exp} (intrinsic vs
 * library may differ across machines), sums are either one sequential chain or "lane-partitioned" (element i goes
 * to partial sum i mod 16, the 16 partials are then added in order), and {@link #exp} is our own polynomial. A
 * 16-lane partition is carried by {@link Simd#PER_GROUP} vectors of {@link Simd#LANES} (the branches on it fold at
 * compile time), so the partials, and the sums, are the same at every vector width.
 */
public final class Ops {
    private Ops() {}

    private static final VectorSpecies<Float> S = Simd.S;
    private static final int V = Simd.LANES;
    private static final int G = Simd.PER_GROUP;
    static final int L = Simd.GROUP;

    // exp(x) = 2^n * e^r, n = round(x / ln 2), |r| <= ln2/2; Cody-Waite split of ln 2 and Cephes' expf polynomial.
    private static final float EXP_HI = 88.0f;
    private static final float EXP_LO = -87.33654f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500E-4f;
    private static final float P1 = 1.3981999507E-3f;
    private static final float P2 = 8.3334519073E-3f;
    private static final float P3 = 4.1665795894E-2f;
    private static final float P4 = 1.6666665459E-1f;
    private static final float P5 = 5.0000001201E-1f;

    /** e^x to about 2 ulp for x in [-87.3, 88]; clamped outside. Same bits as {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float n = Math.fma(x, LOG2E, ROUND_MAGIC) - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float z = r * r;
        float y = Math.fma(P0, r, P1);
        y = Math.fma(y, r, P2);
        y = Math.fma(y, r, P3);
        y = Math.fma(y, r, P4);
        y = Math.fma(y, r, P5);
        y = Math.fma(y, z, r) + 1.0f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    public static FloatVector exp(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = x.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector z = r.mul(r);
        FloatVector y = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
        y = y.fma(r, FloatVector.broadcast(S, P2));
        y = y.fma(r, FloatVector.broadcast(S, P3));
        y = y.fma(r, FloatVector.broadcast(S, P4));
        y = y.fma(r, FloatVector.broadcast(S, P5));
        y = y.fma(z, r).add(1.0f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats());
    }

    /** Sum of squares of x[off, off+n), lane-partitioned. */
    public static float sumOfSquares(float[] x, int off, int n) {
        float[] part = new float[L];
        int i = 0;
        if (Simd.VECTOR) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int bound = n & -L; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                a0 = v.fma(v, a0);
                if (G >= 2) {
                    v = FloatVector.fromArray(S, x, off + i + V);
                    a1 = v.fma(v, a1);
                }
                if (G == 4) {
                    v = FloatVector.fromArray(S, x, off + i + 2 * V);
                    a2 = v.fma(v, a2);
                    v = FloatVector.fromArray(S, x, off + i + 3 * V);
                    a3 = v.fma(v, a3);
                }
            }
            intoParts(a0, a1, a2, a3, part);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            part[i % L] = Math.fma(v, v, part[i % L]);
        }
        return sumInOrder(part);
    }

    /** The 16 lane-partitioned partials held by G vectors, into part[0, 16). */
    private static void intoParts(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] part) {
        a0.intoArray(part, 0);
        if (G >= 2) {
            a1.intoArray(part, V);
        }
        if (G == 4) {
            a2.intoArray(part, 2 * V);
            a3.intoArray(part, 3 * V);
        }
    }

    private static float sumInOrder(float[] part) {
        float s = 0f;
        for (float p : part) {
            s += p;
        }
        return s;
    }

    /** out = weight * (x / rms(x)), as llama2.c: ss = 1 / sqrt(mean(x^2) + eps). */
    public static void rmsnorm(float[] out, int oOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float ss = sumOfSquares(x, xOff, n);
        ss /= n;
        ss += eps;
        ss = 1.0f / (float) Math.sqrt(ss);
        int i = 0;
        if (Simd.VECTOR) {
            for (int bound = S.loopBound(n); i < bound; i += V) {
                FloatVector w = FloatVector.fromArray(S, weight, i);
                FloatVector v = FloatVector.fromArray(S, x, xOff + i).mul(ss);
                w.mul(v).intoArray(out, oOff + i);
            }
        }
        for (; i < n; i++) {
            out[oOff + i] = weight[i] * (ss * x[xOff + i]);
        }
    }

    /** a[i] = silu(a[i]) * b[i] with silu(v) = v * (1 / (1 + e^-v)), as llama2.c. */
    public static void siluMul(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        if (Simd.VECTOR) {
            for (int bound = S.loopBound(n); i < bound; i += V) {
                FloatVector v = FloatVector.fromArray(S, a, aOff + i);
                FloatVector sig = FloatVector.broadcast(S, 1.0f).div(exp(v.neg()).add(1.0f));
                v.mul(sig).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(a, aOff + i);
            }
        }
        for (; i < n; i++) {
            float v = a[aOff + i];
            v *= 1.0f / (1.0f + exp(-v));
            a[aOff + i] = v * b[bOff + i];
        }
    }

    /** a[i] += b[i]. */
    public static void add(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        if (Simd.VECTOR) {
            for (int bound = S.loopBound(n); i < bound; i += V) {
                FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(a, aOff + i);
            }
        }
        for (; i < n; i++) {
            a[aOff + i] += b[bOff + i];
        }
    }

    /**
     * In-place softmax of x[off, off+n): max, e^(x - max), lane-partitioned sum (lane = index mod 16), divide.
     * Indices are relative to {@code off}, so a caller whose element i is position i gets the same sum whatever
     * produced the scores.
     */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float[] part = new float[L];
        int i = 0;
        if (Simd.VECTOR) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int bound = n & -L; i < bound; i += L) {
                a0 = a0.add(expInPlace(x, off + i, max));
                if (G >= 2) {
                    a1 = a1.add(expInPlace(x, off + i + V, max));
                }
                if (G == 4) {
                    a2 = a2.add(expInPlace(x, off + i + 2 * V, max));
                    a3 = a3.add(expInPlace(x, off + i + 3 * V, max));
                }
            }
            intoParts(a0, a1, a2, a3, part);
        }
        for (; i < n; i++) {
            float e = exp(x[off + i] - max);
            x[off + i] = e;
            part[i % L] += e;
        }
        float sum = sumInOrder(part);
        i = 0;
        if (Simd.VECTOR) {
            for (int bound = S.loopBound(n); i < bound; i += V) {
                FloatVector.fromArray(S, x, off + i).div(sum).intoArray(x, off + i);
            }
        }
        for (; i < n; i++) {
            x[off + i] /= sum;
        }
    }

    private static FloatVector expInPlace(float[] x, int o, float max) {
        FloatVector e = exp(FloatVector.fromArray(S, x, o).sub(max));
        e.intoArray(x, o);
        return e;
    }
}

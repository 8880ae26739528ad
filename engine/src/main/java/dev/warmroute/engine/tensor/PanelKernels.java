package dev.warmroute.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-matrix kernels over one weight panel: 32 output rows stored k-major ({@code panel[k][32]}), so a 512-bit
 * vector holds one k-column of 16 rows and the dot products are vectorised ACROSS OUTPUT ROWS. Each output element is
 * then a plain sequential chain {@code acc = fma(w[r][k], x[t][k], acc)} for k = 0..K-1, whatever the number of
 * tokens in the tile or the thread that runs it: batched prefill, token-by-token decode and the scalar twin give the
 * same bits. Instruction-level parallelism comes from several tokens x two row vectors per k step (register
 * blocking: 16 accumulators for a tile of 8 tokens), and the panel's weights are loaded once per k for all of them.
 */
public final class PanelKernels {
    private PanelKernels() {}

    public static final int PANEL = 32;
    private static final VectorSpecies<Float> S = Simd.F16;

    /**
     * y[t][r] = sum_k w[r][k] * x[t][k] for the panel at {@code wOff} (rows r < rows of it), tokens t < tokens.
     * x row t starts at xOff + t * xStride; y row t starts at yOff + t * yStride (yOff points at the panel's first
     * row).
     */
    public static void matmul(float[] w, int wOff, int k, float[] x, int xOff, int xStride, int tokens,
                              float[] y, int yOff, int yStride, int rows) {
        if (!Simd.VECTOR) {
            scalar(w, wOff, k, x, xOff, xStride, tokens, y, yOff, yStride, rows);
            return;
        }
        int t = 0;
        for (; t + 8 <= tokens; t += 8) {
            tile8(w, wOff, k, x, xOff + t * xStride, xStride, y, yOff + t * yStride, yStride, rows);
        }
        for (; t + 4 <= tokens; t += 4) {
            tile4(w, wOff, k, x, xOff + t * xStride, xStride, y, yOff + t * yStride, yStride, rows);
        }
        for (; t < tokens; t++) {
            tile1(w, wOff, k, x, xOff + t * xStride, y, yOff + t * yStride, rows);
        }
    }

    /** The scalar twin: same chains, same bits. */
    public static void scalar(float[] w, int wOff, int k, float[] x, int xOff, int xStride, int tokens,
                              float[] y, int yOff, int yStride, int rows) {
        for (int t = 0; t < tokens; t++) {
            int xo = xOff + t * xStride;
            for (int r = 0; r < rows; r++) {
                float acc = 0f;
                for (int i = 0; i < k; i++) {
                    acc = Math.fma(w[wOff + i * PANEL + r], x[xo + i], acc);
                }
                y[yOff + t * yStride + r] = acc;
            }
        }
    }

    static void store(FloatVector lo, FloatVector hi, float[] y, int off, int rows) {
        if (rows == PANEL) {
            lo.intoArray(y, off);
            hi.intoArray(y, off + 16);
        } else {
            VectorMask<Float> mlo = S.indexInRange(0, rows);
            VectorMask<Float> mhi = S.indexInRange(16, rows);
            lo.intoArray(y, off, mlo);
            hi.intoArray(y, off + 16, mhi);
        }
    }

    /**
     * One token against two panels (64 rows) at once: four independent FMA chains hide the FMA latency that limits
     * a single panel (two chains) in decode. Same chains, same bits as {@link #matmul}.
     */
    public static void matmul1x2(float[] w, int wOff0, int wOff1, int k, float[] x, int xo, float[] y, int yo0,
                                 int yo1, int rows1) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0, wi = wOff0, wj = wOff1; i < k; i++, wi += PANEL, wj += PANEL) {
            FloatVector b = FloatVector.broadcast(S, x[xo + i]);
            a0 = FloatVector.fromArray(S, w, wi).fma(b, a0);
            a1 = FloatVector.fromArray(S, w, wi + 16).fma(b, a1);
            a2 = FloatVector.fromArray(S, w, wj).fma(b, a2);
            a3 = FloatVector.fromArray(S, w, wj + 16).fma(b, a3);
        }
        store(a0, a1, y, yo0, PANEL);
        store(a2, a3, y, yo1, rows1);
    }

    private static void tile1(float[] w, int wOff, int k, float[] x, int xo, float[] y, int yo, int rows) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        for (int i = 0, wi = wOff; i < k; i++, wi += PANEL) {
            FloatVector b = FloatVector.broadcast(S, x[xo + i]);
            a0 = FloatVector.fromArray(S, w, wi).fma(b, a0);
            a1 = FloatVector.fromArray(S, w, wi + 16).fma(b, a1);
        }
        store(a0, a1, y, yo, rows);
    }

    private static void tile4(float[] w, int wOff, int k, float[] x, int xo, int xs, float[] y, int yo, int ys,
                              int rows) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int x0 = xo, x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs;
        for (int i = 0, wi = wOff; i < k; i++, wi += PANEL) {
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + 16);
            FloatVector b;
            b = FloatVector.broadcast(S, x[x0 + i]);
            a00 = w0.fma(b, a00);
            a10 = w1.fma(b, a10);
            b = FloatVector.broadcast(S, x[x1 + i]);
            a01 = w0.fma(b, a01);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(S, x[x2 + i]);
            a02 = w0.fma(b, a02);
            a12 = w1.fma(b, a12);
            b = FloatVector.broadcast(S, x[x3 + i]);
            a03 = w0.fma(b, a03);
            a13 = w1.fma(b, a13);
        }
        store(a00, a10, y, yo, rows);
        store(a01, a11, y, yo + ys, rows);
        store(a02, a12, y, yo + 2 * ys, rows);
        store(a03, a13, y, yo + 3 * ys, rows);
    }

    private static void tile8(float[] w, int wOff, int k, float[] x, int xo, int xs, float[] y, int yo, int ys,
                              int rows) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00,
                a07 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
        int x0 = xo, x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs, x4 = xo + 4 * xs, x5 = xo + 5 * xs,
                x6 = xo + 6 * xs, x7 = xo + 7 * xs;
        for (int i = 0, wi = wOff; i < k; i++, wi += PANEL) {
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + 16);
            FloatVector b;
            b = FloatVector.broadcast(S, x[x0 + i]);
            a00 = w0.fma(b, a00);
            a10 = w1.fma(b, a10);
            b = FloatVector.broadcast(S, x[x1 + i]);
            a01 = w0.fma(b, a01);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(S, x[x2 + i]);
            a02 = w0.fma(b, a02);
            a12 = w1.fma(b, a12);
            b = FloatVector.broadcast(S, x[x3 + i]);
            a03 = w0.fma(b, a03);
            a13 = w1.fma(b, a13);
            b = FloatVector.broadcast(S, x[x4 + i]);
            a04 = w0.fma(b, a04);
            a14 = w1.fma(b, a14);
            b = FloatVector.broadcast(S, x[x5 + i]);
            a05 = w0.fma(b, a05);
            a15 = w1.fma(b, a15);
            b = FloatVector.broadcast(S, x[x6 + i]);
            a06 = w0.fma(b, a06);
            a16 = w1.fma(b, a16);
            b = FloatVector.broadcast(S, x[x7 + i]);
            a07 = w0.fma(b, a07);
            a17 = w1.fma(b, a17);
        }
        store(a00, a10, y, yo, rows);
        store(a01, a11, y, yo + ys, rows);
        store(a02, a12, y, yo + 2 * ys, rows);
        store(a03, a13, y, yo + 3 * ys, rows);
        store(a04, a14, y, yo + 4 * ys, rows);
        store(a05, a15, y, yo + 5 * ys, rows);
        store(a06, a16, y, yo + 6 * ys, rows);
        store(a07, a17, y, yo + 7 * ys, rows);
    }
}

package dev.warmroute.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-matrix kernels over one weight panel: 32 output rows stored k-major ({@code panel[k][32]}), so a vector holds
 * one k-column of 16, 8 or 4 rows and the dot products are vectorised ACROSS OUTPUT ROWS. Each output element is then
 * a plain sequential chain {@code acc = fma(w[r][k], x[t][k], acc)} for k = 0..K-1, whatever the number of tokens in
 * the tile, the thread that runs it or the vector width: batched prefill, token-by-token decode, 512/256/128-bit and
 * the scalar twin give the same bits.
 *
 * <p>Register tiling (which never changes a chain): prefill tiles are T tokens x 2 vectors (T = 8 with 32 vector
 * registers, 6 with 16), run over the panel's rows in slices of 2 vectors (one slice at 512-bit, two at 256, four at
 * 128), so the weights of a slice are loaded once per k for T tokens. Decode (one token) runs 4 or 8 chains at once
 * over two panels or two halves of one, to hide the FMA latency.
 */
public final class PanelKernels {
    private PanelKernels() {}

    public static final int PANEL = 32;
    private static final VectorSpecies<Float> S = Simd.S;
    private static final int V = Simd.LANES;
    /** Rows of one prefill slice: two vectors. */
    private static final int SLICE = 2 * V;
    /** Tokens of the widest prefill tile: 8 tokens x 2 vectors = 16 accumulators need 32 registers. */
    private static final int TILE = Simd.MANY_REGISTERS ? 8 : 6;

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
        if (tokens >= 4) {
            for (int r0 = 0; r0 < rows; r0 += SLICE) {
                int n = rows - r0;
                t = 0;
                for (; t + TILE <= tokens; t += TILE) {
                    int xo = xOff + t * xStride;
                    int yo = yOff + t * yStride + r0;
                    if (TILE == 8) {
                        tile8(w, wOff + r0, k, x, xo, xStride, y, yo, yStride, n);
                    } else {
                        tile6(w, wOff + r0, k, x, xo, xStride, y, yo, yStride, n);
                    }
                }
                for (; t + 4 <= tokens; t += 4) {
                    tile4(w, wOff + r0, k, x, xOff + t * xStride, xStride, y, yOff + t * yStride + r0, yStride, n);
                }
            }
        }
        for (; t < tokens; t++) {
            panel1(w, wOff, k, x, xOff + t * xStride, y, yOff + t * yStride, rows);
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

    /** Stores the first {@code rows} lanes of v (all of them when rows >= V, none when rows <= 0). */
    static void store(FloatVector v, float[] y, int off, int rows) {
        if (rows >= V) {
            v.intoArray(y, off);
        } else if (rows > 0) {
            v.intoArray(y, off, S.indexInRange(0, rows));
        }
    }

    /** Two vectors of rows [off, off + 2V) of which {@code rows} are valid. */
    static void store(FloatVector lo, FloatVector hi, float[] y, int off, int rows) {
        store(lo, y, off, rows);
        store(hi, y, off + V, rows - V);
    }

    /**
     * One token against two panels (64 rows) at once: 4 (512-bit) or 8 (256, 128) independent FMA chains hide the
     * FMA latency that limits one slice of two vectors in decode. Same chains, same bits as {@link #matmul}.
     */
    public static void matmul1x2(float[] w, int wOff0, int wOff1, int k, float[] x, int xo, float[] y, int yo0,
                                 int yo1, int rows1) {
        if (V == 16) {
            decode4(w, wOff0, wOff1, k, x, xo, y, yo0, PANEL, yo1, rows1);
        } else if (V == 8) {
            decode8(w, wOff0, wOff1, k, x, xo, y, yo0, PANEL, yo1, rows1);
        } else {
            panel1(w, wOff0, k, x, xo, y, yo0, PANEL);
            panel1(w, wOff1, k, x, xo, y, yo1, rows1);
        }
    }

    /** One token against one panel: 2 (512-bit), 4 (256) or 8 (128) chains. */
    private static void panel1(float[] w, int wOff, int k, float[] x, int xo, float[] y, int yo, int rows) {
        int h = PANEL / 2;
        if (V == 16) {
            tile1(w, wOff, k, x, xo, y, yo, rows);
        } else if (V == 8) {
            decode4(w, wOff, wOff + h, k, x, xo, y, yo, Math.min(rows, h), yo + h, rows - h);
        } else {
            decode8(w, wOff, wOff + h, k, x, xo, y, yo, Math.min(rows, h), yo + h, rows - h);
        }
    }

    /** One token, four chains: vectors at a, a + V and b, b + V (k stride PANEL). */
    private static void decode4(float[] w, int a, int b, int k, float[] x, int xo, float[] y, int ya, int rowsA,
                                int yb, int rowsB) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0, wi = a, wj = b; i < k; i++, wi += PANEL, wj += PANEL) {
            FloatVector v = FloatVector.broadcast(S, x[xo + i]);
            a0 = FloatVector.fromArray(S, w, wi).fma(v, a0);
            a1 = FloatVector.fromArray(S, w, wi + V).fma(v, a1);
            a2 = FloatVector.fromArray(S, w, wj).fma(v, a2);
            a3 = FloatVector.fromArray(S, w, wj + V).fma(v, a3);
        }
        store(a0, a1, y, ya, rowsA);
        store(a2, a3, y, yb, rowsB);
    }

    /** One token, eight chains: vectors at a + {0..3} V and b + {0..3} V (k stride PANEL). */
    private static void decode8(float[] w, int a, int b, int k, float[] x, int xo, float[] y, int ya, int rowsA,
                                int yb, int rowsB) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0, wi = a, wj = b; i < k; i++, wi += PANEL, wj += PANEL) {
            FloatVector v = FloatVector.broadcast(S, x[xo + i]);
            a0 = FloatVector.fromArray(S, w, wi).fma(v, a0);
            a1 = FloatVector.fromArray(S, w, wi + V).fma(v, a1);
            a2 = FloatVector.fromArray(S, w, wi + 2 * V).fma(v, a2);
            a3 = FloatVector.fromArray(S, w, wi + 3 * V).fma(v, a3);
            a4 = FloatVector.fromArray(S, w, wj).fma(v, a4);
            a5 = FloatVector.fromArray(S, w, wj + V).fma(v, a5);
            a6 = FloatVector.fromArray(S, w, wj + 2 * V).fma(v, a6);
            a7 = FloatVector.fromArray(S, w, wj + 3 * V).fma(v, a7);
        }
        store(a0, a1, y, ya, rowsA);
        store(a2, a3, y, ya + 2 * V, rowsA - 2 * V);
        store(a4, a5, y, yb, rowsB);
        store(a6, a7, y, yb + 2 * V, rowsB - 2 * V);
    }

    private static void tile1(float[] w, int wOff, int k, float[] x, int xo, float[] y, int yo, int rows) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        for (int i = 0, wi = wOff; i < k; i++, wi += PANEL) {
            FloatVector b = FloatVector.broadcast(S, x[xo + i]);
            a0 = FloatVector.fromArray(S, w, wi).fma(b, a0);
            a1 = FloatVector.fromArray(S, w, wi + V).fma(b, a1);
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
            FloatVector w1 = FloatVector.fromArray(S, w, wi + V);
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

    /** Six tokens x two vectors: 12 accumulators, the most 16 registers hold with the weights and a broadcast. */
    private static void tile6(float[] w, int wOff, int k, float[] x, int xo, int xs, float[] y, int yo, int ys,
                              int rows) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00;
        int x0 = xo, x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs, x4 = xo + 4 * xs, x5 = xo + 5 * xs;
        for (int i = 0, wi = wOff; i < k; i++, wi += PANEL) {
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + V);
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
        }
        store(a00, a10, y, yo, rows);
        store(a01, a11, y, yo + ys, rows);
        store(a02, a12, y, yo + 2 * ys, rows);
        store(a03, a13, y, yo + 3 * ys, rows);
        store(a04, a14, y, yo + 4 * ys, rows);
        store(a05, a15, y, yo + 5 * ys, rows);
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
            FloatVector w1 = FloatVector.fromArray(S, w, wi + V);
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

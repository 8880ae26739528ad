package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0: blocks of 32 int8 with one f16 scale. Repacked as {@code q[panel][k][32]} bytes and
 * {@code scale[panel][k/32][32]} floats, so one 16-byte load is one k-column of 16 rows (8 bytes of 8 rows at
 * 256-bit, 4 of 4 at 128). The weight value is
 * {@code (float) q * scale}; products are computed per block as ggml does (see the comment above the kernels), the
 * same chains in the fused decode kernel, the panel-scratch prefill kernel and the scalar twin.
 */
public final class Q8_0Tensor extends Tensor {

    private static final VectorSpecies<Float> S = Simd.S;
    private static final int V = Simd.LANES;
    /** The bytes of one float vector: B2F widens 16 (512-bit), 8 (256) or, from the low half of 8, 4 (128). */
    private static final VectorSpecies<Byte> B = V == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** Below this many tokens the fused kernel runs; at or above it a panel is dequantised once and reused. */
    private static final int FUSED_MAX_TOKENS = 3;

    private final byte[] q;      // (panels, cols, 32)
    private final float[] scale; // (panels, cols / 32, 32)
    private final int blocks;

    Q8_0Tensor(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols);
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("tensor " + name + ": Q8_0 row length " + cols
                    + " is not a multiple of 32");
        }
        blocks = cols / 32;
        q = new byte[panels * cols * PANEL + 8]; // + 8: the 128-bit path loads 8 bytes to widen 4
        scale = new float[panels * blocks * PANEL];
        long rowBytes = (long) blocks * 34;
        byte[] tmp = new byte[(int) (PANEL * rowBytes)];
        for (int p = 0; p < panels; p++) {
            readPanelRows(data, rowBytes, rows, p, tmp);
            int qBase = p * cols * PANEL;
            int sBase = p * blocks * PANEL;
            for (int j = 0; j < PANEL; j++) {
                for (int b = 0; b < blocks; b++) {
                    int o = (int) (j * rowBytes) + b * 34;
                    short d = (short) ((tmp[o] & 0xFF) | (tmp[o + 1] << 8));
                    scale[sBase + b * PANEL + j] = Float.float16ToFloat(d);
                    for (int i = 0; i < 32; i++) {
                        q[qBase + (b * 32 + i) * PANEL + j] = tmp[o + 2 + i];
                    }
                }
            }
        }
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public long bytes() {
        return (long) panels * cols * PANEL + 4L * scale.length;
    }

    @Override
    public void row(int r, float[] out, int off) {
        int p = r / PANEL;
        int j = r % PANEL;
        for (int k = 0; k < cols; k++) {
            out[off + k] = (float) q[(p * cols + k) * PANEL + j] * scale[(p * blocks + k / 32) * PANEL + j];
        }
    }

    @Override
    void dequantizePanel(int p, float[] out) {
        if (!Simd.VECTOR) {
            dequantizePanelScalar(p, out);
            return;
        }
        int qBase = p * cols * PANEL;
        int sBase = p * blocks * PANEL;
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < PANEL; j += V) {
                FloatVector s = FloatVector.fromArray(S, scale, sBase + b * PANEL + j);
                for (int k = b * 32, end = k + 32; k < end; k++) {
                    widen(qBase + k * PANEL + j).mul(s).intoArray(out, k * PANEL + j);
                }
            }
        }
    }

    @Override
    void dequantizePanelScalar(int p, float[] out) {
        int qBase = p * cols * PANEL;
        int sBase = p * blocks * PANEL;
        for (int k = 0; k < cols; k++) {
            for (int j = 0; j < PANEL; j++) {
                out[k * PANEL + j] = (float) q[qBase + k * PANEL + j] * scale[sBase + (k / 32) * PANEL + j];
            }
        }
    }

    /**
     * V quantised values from q[off] as floats (exact). At 256-bit, B2F compiles to a slower sequence than B2I then
     * I2F (measured: 0.44 vs 0.26 ns per 8 values in the decode loop, with or without AVX-512); at 512 and 128 B2F is
     * as fast or faster.
     */
    private FloatVector widen(int off) {
        ByteVector b = ByteVector.fromArray(B, q, off);
        if (V == 8) {
            return (FloatVector) b.convertShape(VectorOperators.B2I, IntVector.SPECIES_256, 0)
                    .convert(VectorOperators.I2F, 0);
        }
        return (FloatVector) b.convertShape(VectorOperators.B2F, S, 0);
    }

    /*
     * Q8_0 products are defined block by block, as ggml does: for each block of 32, part = sequential FMA chain of
     * (float) q[k] * x[k] (exact integers, no scale), then total = fma(part, scale, total). All paths below (fused
     * decode, panel-scratch prefill, scalar) run exactly these chains; the scale costs one FMA per 32 instead of a
     * multiply per weight.
     */

    @Override
    public void matmul(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                       int p0, int p1, float[] scratch) {
        if (!Simd.VECTOR) {
            scalarBlocked(x, xOff, xStride, tokens, y, yOff, yStride, p0, p1);
            return;
        }
        if (tokens <= FUSED_MAX_TOKENS) {
            int p = p0;
            for (; p + 1 < p1; p += 2) {
                for (int t = 0; t < tokens; t++) {
                    fused2(p, x, xOff + t * xStride, y, yOff + t * yStride + p * PANEL);
                }
            }
            for (; p < p1; p++) {
                for (int t = 0; t < tokens; t++) {
                    fused1(p, x, xOff + t * xStride, y, yOff + t * yStride + p * PANEL);
                }
            }
            return;
        }
        // Prefill: the panel widened once (values without scale) and reused by every token, in tiles of 4 tokens x
        // 2 vectors (a slice of the panel's rows): 8 block chains and 8 totals.
        for (int p = p0; p < p1; p++) {
            widenPanel(p, scratch);
            int rows = rowsIn(p);
            int sBase = p * blocks * PANEL;
            for (int r0 = 0; r0 < rows; r0 += 2 * V) {
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    tile4(scratch, r0, sBase + r0, x, xOff + t * xStride, xStride, y,
                            yOff + t * yStride + p * PANEL + r0, yStride, rows - r0);
                }
                for (; t < tokens; t++) {
                    tile1(scratch, r0, sBase + r0, x, xOff + t * xStride, y, yOff + t * yStride + p * PANEL + r0,
                            rows - r0);
                }
            }
        }
    }

    /**
     * Four tokens against the slice of 2 vectors at w[wOff] (k stride PANEL) of a widened panel: 8 block chains and
     * 8 totals (with 16 registers the totals, touched once per block, live on the stack).
     */
    private void tile4(float[] w, int wOff, int sOff, float[] x, int xo, int xs, float[] y, int yo, int ys,
                       int rows) {
        FloatVector z = FloatVector.zero(S);
        FloatVector t00 = z, t01 = z, t02 = z, t03 = z, t10 = z, t11 = z, t12 = z, t13 = z;
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        int x0 = xo, x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs;
        for (int k = 0, wi = wOff; k < cols; k++, wi += PANEL) {
            FloatVector w0 = FloatVector.fromArray(S, w, wi);
            FloatVector w1 = FloatVector.fromArray(S, w, wi + V);
            FloatVector v;
            v = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(v, a00);
            a10 = w1.fma(v, a10);
            v = FloatVector.broadcast(S, x[x1 + k]);
            a01 = w0.fma(v, a01);
            a11 = w1.fma(v, a11);
            v = FloatVector.broadcast(S, x[x2 + k]);
            a02 = w0.fma(v, a02);
            a12 = w1.fma(v, a12);
            v = FloatVector.broadcast(S, x[x3 + k]);
            a03 = w0.fma(v, a03);
            a13 = w1.fma(v, a13);
            if ((k & 31) == 31) {
                int so = sOff + (k >> 5) * PANEL;
                FloatVector s0 = FloatVector.fromArray(S, scale, so);
                FloatVector s1 = FloatVector.fromArray(S, scale, so + V);
                t00 = a00.fma(s0, t00);
                t01 = a01.fma(s0, t01);
                t02 = a02.fma(s0, t02);
                t03 = a03.fma(s0, t03);
                t10 = a10.fma(s1, t10);
                t11 = a11.fma(s1, t11);
                t12 = a12.fma(s1, t12);
                t13 = a13.fma(s1, t13);
                a00 = z;
                a01 = z;
                a02 = z;
                a03 = z;
                a10 = z;
                a11 = z;
                a12 = z;
                a13 = z;
            }
        }
        PanelKernels.store(t00, t10, y, yo, rows);
        PanelKernels.store(t01, t11, y, yo + ys, rows);
        PanelKernels.store(t02, t12, y, yo + 2 * ys, rows);
        PanelKernels.store(t03, t13, y, yo + 3 * ys, rows);
    }

    private void tile1(float[] w, int wOff, int sOff, float[] x, int xo, float[] y, int yo, int rows) {
        FloatVector t0 = FloatVector.zero(S);
        FloatVector t1 = t0;
        for (int b = 0; b < blocks; b++) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            for (int k = b * 32, end = k + 32; k < end; k++) {
                FloatVector v = FloatVector.broadcast(S, x[xo + k]);
                a0 = FloatVector.fromArray(S, w, wOff + k * PANEL).fma(v, a0);
                a1 = FloatVector.fromArray(S, w, wOff + k * PANEL + V).fma(v, a1);
            }
            t0 = a0.fma(FloatVector.fromArray(S, scale, sOff + b * PANEL), t0);
            t1 = a1.fma(FloatVector.fromArray(S, scale, sOff + b * PANEL + V), t1);
        }
        PanelKernels.store(t0, t1, y, yo, rows);
    }

    @Override
    public void matmulScalar(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                             float[] scratch) {
        scalarBlocked(x, xOff, xStride, tokens, y, yOff, yStride, 0, panels);
    }

    /** The definition, one operation at a time. */
    private void scalarBlocked(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                               int p0, int p1) {
        for (int p = p0; p < p1; p++) {
            int qBase = p * cols * PANEL;
            int sBase = p * blocks * PANEL;
            for (int t = 0; t < tokens; t++) {
                int xo = xOff + t * xStride;
                for (int j = 0; j < rowsIn(p); j++) {
                    float total = 0f;
                    for (int b = 0; b < blocks; b++) {
                        float part = 0f;
                        for (int i = 0; i < 32; i++) {
                            int k = b * 32 + i;
                            part = Math.fma((float) q[qBase + k * PANEL + j], x[xo + k], part);
                        }
                        total = Math.fma(part, scale[sBase + b * PANEL + j], total);
                    }
                    y[yOff + t * yStride + p * PANEL + j] = total;
                }
            }
        }
    }

    /** The widened panel. */
    @Override
    public int scratchFloats() {
        return cols * PANEL;
    }

    /** Panel p's quantised values as floats (no scale), k-major: reused by every token of a prefill chunk. */
    private void widenPanel(int p, float[] out) {
        int qBase = p * cols * PANEL;
        for (int k = 0; k < cols; k++) {
            for (int j = 0; j < PANEL; j += V) {
                widen(qBase + k * PANEL + j).intoArray(out, k * PANEL + j);
            }
        }
    }

    /** One token against panel p, widening in registers: 2, 4 or 8 chains (512, 256, 128-bit). */
    private void fused1(int p, float[] x, int xo, float[] y, int yo) {
        int qBase = p * cols * PANEL;
        int sBase = p * blocks * PANEL;
        int rows = rowsIn(p);
        int h = PANEL / 2;
        if (V == 16) {
            fused2v(qBase, sBase, x, xo, y, yo, rows);
        } else if (V == 8) {
            fused4v(qBase, qBase + h, sBase, sBase + h, x, xo, y, yo, Math.min(rows, h), yo + h, rows - h);
        } else {
            fused8v(qBase, qBase + h, sBase, sBase + h, x, xo, y, yo, Math.min(rows, h), yo + h, rows - h);
        }
    }

    /** One token against panels p and p + 1: 4 chains (512-bit) or 8 (256; 128 runs the panels one by one). */
    private void fused2(int p, float[] x, int xo, float[] y, int yo) {
        int qBase = p * cols * PANEL;
        int qBase1 = qBase + cols * PANEL;
        int sBase = p * blocks * PANEL;
        int sBase1 = sBase + blocks * PANEL;
        if (V == 16) {
            fused4v(qBase, qBase1, sBase, sBase1, x, xo, y, yo, PANEL, yo + PANEL, rowsIn(p + 1));
        } else if (V == 8) {
            fused8v(qBase, qBase1, sBase, sBase1, x, xo, y, yo, PANEL, yo + PANEL, rowsIn(p + 1));
        } else {
            fused1(p, x, xo, y, yo);
            fused1(p + 1, x, xo, y, yo + PANEL);
        }
    }

    /** Two chains: vectors at q offset a, a + V. */
    private void fused2v(int a, int sa, float[] x, int xo, float[] y, int ya, int rows) {
        FloatVector t0 = FloatVector.zero(S);
        FloatVector t1 = t0;
        for (int b = 0; b < blocks; b++) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            for (int k = b * 32, end = k + 32; k < end; k++) {
                int qo = a + k * PANEL;
                FloatVector v = FloatVector.broadcast(S, x[xo + k]);
                a0 = widen(qo).fma(v, a0);
                a1 = widen(qo + V).fma(v, a1);
            }
            int so = sa + b * PANEL;
            t0 = a0.fma(FloatVector.fromArray(S, scale, so), t0);
            t1 = a1.fma(FloatVector.fromArray(S, scale, so + V), t1);
        }
        PanelKernels.store(t0, t1, y, ya, rows);
    }

    /** Four chains: vectors at q offsets a, a + V, b, b + V (scales at sa.., sb..). */
    private void fused4v(int a, int b, int sa, int sb, float[] x, int xo, float[] y, int ya, int rowsA, int yb,
                         int rowsB) {
        FloatVector t0 = FloatVector.zero(S), t1 = t0, t2 = t0, t3 = t0;
        for (int blk = 0; blk < blocks; blk++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int k = blk * 32, end = k + 32; k < end; k++) {
                int qa = a + k * PANEL;
                int qb = b + k * PANEL;
                FloatVector v = FloatVector.broadcast(S, x[xo + k]);
                a0 = widen(qa).fma(v, a0);
                a1 = widen(qa + V).fma(v, a1);
                a2 = widen(qb).fma(v, a2);
                a3 = widen(qb + V).fma(v, a3);
            }
            int s0 = sa + blk * PANEL;
            int s1 = sb + blk * PANEL;
            t0 = a0.fma(FloatVector.fromArray(S, scale, s0), t0);
            t1 = a1.fma(FloatVector.fromArray(S, scale, s0 + V), t1);
            t2 = a2.fma(FloatVector.fromArray(S, scale, s1), t2);
            t3 = a3.fma(FloatVector.fromArray(S, scale, s1 + V), t3);
        }
        PanelKernels.store(t0, t1, y, ya, rowsA);
        PanelKernels.store(t2, t3, y, yb, rowsB);
    }

    /** Eight chains: vectors at q offsets a + {0..3} V and b + {0..3} V (scales at sa.., sb..). */
    private void fused8v(int a, int b, int sa, int sb, float[] x, int xo, float[] y, int ya, int rowsA, int yb,
                         int rowsB) {
        FloatVector z = FloatVector.zero(S);
        FloatVector t0 = z, t1 = z, t2 = z, t3 = z, t4 = z, t5 = z, t6 = z, t7 = z;
        for (int blk = 0; blk < blocks; blk++) {
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
            for (int k = blk * 32, end = k + 32; k < end; k++) {
                int qa = a + k * PANEL;
                int qb = b + k * PANEL;
                FloatVector v = FloatVector.broadcast(S, x[xo + k]);
                a0 = widen(qa).fma(v, a0);
                a1 = widen(qa + V).fma(v, a1);
                a2 = widen(qa + 2 * V).fma(v, a2);
                a3 = widen(qa + 3 * V).fma(v, a3);
                a4 = widen(qb).fma(v, a4);
                a5 = widen(qb + V).fma(v, a5);
                a6 = widen(qb + 2 * V).fma(v, a6);
                a7 = widen(qb + 3 * V).fma(v, a7);
            }
            int s0 = sa + blk * PANEL;
            int s1 = sb + blk * PANEL;
            t0 = a0.fma(FloatVector.fromArray(S, scale, s0), t0);
            t1 = a1.fma(FloatVector.fromArray(S, scale, s0 + V), t1);
            t2 = a2.fma(FloatVector.fromArray(S, scale, s0 + 2 * V), t2);
            t3 = a3.fma(FloatVector.fromArray(S, scale, s0 + 3 * V), t3);
            t4 = a4.fma(FloatVector.fromArray(S, scale, s1), t4);
            t5 = a5.fma(FloatVector.fromArray(S, scale, s1 + V), t5);
            t6 = a6.fma(FloatVector.fromArray(S, scale, s1 + 2 * V), t6);
            t7 = a7.fma(FloatVector.fromArray(S, scale, s1 + 3 * V), t7);
        }
        PanelKernels.store(t0, t1, y, ya, rowsA);
        PanelKernels.store(t2, t3, y, ya + 2 * V, rowsA - 2 * V);
        PanelKernels.store(t4, t5, y, yb, rowsB);
        PanelKernels.store(t6, t7, y, yb + 2 * V, rowsB - 2 * V);
    }
}

package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0: blocks of 32 int8 with one f16 scale. Repacked as {@code q[panel][k][32]} bytes and
 * {@code scale[panel][k/32][32]} floats, so one 16-byte load is one k-column of 16 rows. The weight value is
 * {@code (float) q * scale}, exact in float (8-bit times 11-bit mantissa), so the fused decode kernel and the
 * panel-scratch prefill path produce identical FMA chains.
 */
public final class Q8_0Tensor extends Tensor {

    private static final VectorSpecies<Float> S = Simd.F16;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
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
        q = new byte[panels * cols * PANEL];
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
        return q.length + 4L * scale.length;
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
            FloatVector s0 = FloatVector.fromArray(S, scale, sBase + b * PANEL);
            FloatVector s1 = FloatVector.fromArray(S, scale, sBase + b * PANEL + 16);
            for (int i = 0; i < 32; i++) {
                int k = b * 32 + i;
                int qo = qBase + k * PANEL;
                widen(qo).mul(s0).intoArray(out, k * PANEL);
                widen(qo + 16).mul(s1).intoArray(out, k * PANEL + 16);
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

    private FloatVector widen(int off) {
        return (FloatVector) ByteVector.fromArray(B, q, off).convertShape(VectorOperators.B2F, S, 0);
    }

    @Override
    public void matmul(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                       int p0, int p1, float[] scratch) {
        if (!Simd.VECTOR || tokens > FUSED_MAX_TOKENS) {
            super.matmul(x, xOff, xStride, tokens, y, yOff, yStride, p0, p1, scratch);
            return;
        }
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
    }

    /** One token against panels p and p + 1: four chains in flight instead of two. */
    private void fused2(int p, float[] x, int xo, float[] y, int yo) {
        int qBase = p * cols * PANEL;
        int qBase1 = qBase + cols * PANEL;
        int sBase = p * blocks * PANEL;
        int sBase1 = sBase + blocks * PANEL;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = FloatVector.fromArray(S, scale, sBase + b * PANEL);
            FloatVector s1 = FloatVector.fromArray(S, scale, sBase + b * PANEL + 16);
            FloatVector s2 = FloatVector.fromArray(S, scale, sBase1 + b * PANEL);
            FloatVector s3 = FloatVector.fromArray(S, scale, sBase1 + b * PANEL + 16);
            int k0 = b * 32;
            for (int i = 0; i < 32; i++) {
                int k = k0 + i;
                int qo = qBase + k * PANEL;
                int qo1 = qBase1 + k * PANEL;
                FloatVector bx = FloatVector.broadcast(S, x[xo + k]);
                a0 = widen(qo).mul(s0).fma(bx, a0);
                a1 = widen(qo + 16).mul(s1).fma(bx, a1);
                a2 = widen(qo1).mul(s2).fma(bx, a2);
                a3 = widen(qo1 + 16).mul(s3).fma(bx, a3);
            }
        }
        PanelKernels.store(a0, a1, y, yo, PANEL);
        PanelKernels.store(a2, a3, y, yo + PANEL, rowsIn(p + 1));
    }

    /** One token against panel p, dequantising in registers. Same chain as the scratch path. */
    private void fused1(int p, float[] x, int xo, float[] y, int yo) {
        int qBase = p * cols * PANEL;
        int sBase = p * blocks * PANEL;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = FloatVector.fromArray(S, scale, sBase + b * PANEL);
            FloatVector s1 = FloatVector.fromArray(S, scale, sBase + b * PANEL + 16);
            int k0 = b * 32;
            for (int i = 0; i < 32; i++) {
                int k = k0 + i;
                int qo = qBase + k * PANEL;
                FloatVector bx = FloatVector.broadcast(S, x[xo + k]);
                a0 = widen(qo).mul(s0).fma(bx, a0);
                a1 = widen(qo + 16).mul(s1).fma(bx, a1);
            }
        }
        PanelKernels.store(a0, a1, y, yo, rowsIn(p));
    }
}

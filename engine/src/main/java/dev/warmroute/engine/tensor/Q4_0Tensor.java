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
 * Q4_0: blocks of 32 4-bit values (stored q + 8) with one f16 scale; element i of a block is the low nibble of byte
 * i for i < 16, the high nibble of byte i - 16 otherwise. Repacked as {@code nib[panel][k/2][32]} (low nibble = even
 * k, high nibble = odd k) and {@code scale[panel][k/32][32]}; value {@code (q - 8) * scale} (exact in float). Prefill
 * dequantises a panel once per chunk and runs the F32 kernels; decode (a few tokens) dequantises in registers, the
 * same values in the same F32 chains.
 */
public final class Q4_0Tensor extends Tensor {

    private static final VectorSpecies<Float> S = Simd.S;
    private static final int V = Simd.LANES;
    /** The bytes of V rows (the 128-bit path widens the low 4 of 8). */
    private static final VectorSpecies<Byte> B = V == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = V == 16 ? IntVector.SPECIES_512
            : V == 8 ? IntVector.SPECIES_256 : IntVector.SPECIES_128;
    private static final int FUSED_MAX_TOKENS = 3;

    private final byte[] nib;    // (panels, cols / 2, 32)
    private final float[] scale; // (panels, cols / 32, 32)
    private final int blocks;

    Q4_0Tensor(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols);
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("tensor " + name + ": Q4_0 row length " + cols
                    + " is not a multiple of 32");
        }
        blocks = cols / 32;
        nib = new byte[panels * (cols / 2) * PANEL + 8]; // + 8: the 128-bit path loads 8 bytes to widen 4
        scale = new float[panels * blocks * PANEL];
        long rowBytes = (long) blocks * 18;
        byte[] tmp = new byte[(int) (PANEL * rowBytes)];
        int[] vals = new int[32];
        for (int p = 0; p < panels; p++) {
            readPanelRows(data, rowBytes, rows, p, tmp);
            int nBase = p * (cols / 2) * PANEL;
            int sBase = p * blocks * PANEL;
            for (int j = 0; j < PANEL; j++) {
                for (int b = 0; b < blocks; b++) {
                    int o = (int) (j * rowBytes) + b * 18;
                    short d = (short) ((tmp[o] & 0xFF) | (tmp[o + 1] << 8));
                    scale[sBase + b * PANEL + j] = Float.float16ToFloat(d);
                    for (int i = 0; i < 16; i++) {
                        vals[i] = tmp[o + 2 + i] & 0x0F;
                        vals[i + 16] = (tmp[o + 2 + i] >> 4) & 0x0F;
                    }
                    for (int i = 0; i < 32; i += 2) {
                        int k = b * 32 + i;
                        nib[nBase + (k / 2) * PANEL + j] = (byte) (vals[i] | (vals[i + 1] << 4));
                    }
                }
            }
        }
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public long bytes() {
        return (long) panels * (cols / 2) * PANEL + 4L * scale.length;
    }

    private float value(int p, int k, int j) {
        int b = nib[(p * (cols / 2) + k / 2) * PANEL + j];
        int v = (k & 1) == 0 ? b & 0x0F : (b >> 4) & 0x0F;
        return (float) (v - 8) * scale[(p * blocks + k / 32) * PANEL + j];
    }

    @Override
    public void row(int r, float[] out, int off) {
        for (int k = 0; k < cols; k++) {
            out[off + k] = value(r / PANEL, k, r % PANEL);
        }
    }

    @Override
    void dequantizePanel(int p, float[] out) {
        int nBase = p * (cols / 2) * PANEL;
        int sBase = p * blocks * PANEL;
        for (int k = 0; k < cols; k += 2) {
            int so = sBase + (k / 32) * PANEL;
            int no = nBase + (k / 2) * PANEL;
            for (int j = 0; j < PANEL; j++) {
                int b = nib[no + j];
                float s = scale[so + j];
                out[k * PANEL + j] = (float) ((b & 0x0F) - 8) * s;
                out[(k + 1) * PANEL + j] = (float) (((b >> 4) & 0x0F) - 8) * s;
            }
        }
    }

    @Override
    public void matmul(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                       int p0, int p1, float[] scratch) {
        if (!Simd.VECTOR || tokens > FUSED_MAX_TOKENS) {
            super.matmul(x, xOff, xStride, tokens, y, yOff, yStride, p0, p1, scratch);
            return;
        }
        for (int t = 0; t < tokens; t++) {
            for (int p = p0; p < p1; p++) {
                int rows = rowsIn(p);
                for (int r0 = 0; r0 < rows; r0 += 2 * V) {
                    fused2(nibBase(p) + r0, scaleBase(p) + r0, x, xOff + t * xStride, y,
                            yOff + t * yStride + p * PANEL + r0, rows - r0);
                }
            }
        }
    }

    private int nibBase(int p) {
        return p * (cols / 2) * PANEL;
    }

    private int scaleBase(int p) {
        return p * blocks * PANEL;
    }

    /**
     * One token, two F32 chains over dequantised values: the rows of nib/scale offsets a, a + V. (Two, not four: the
     * dequantisation of four vectors per k makes C2 stop inlining, and its integer work, not the FMA latency, is what
     * limits this loop.)
     */
    private void fused2(int a, int sa, float[] x, int xo, float[] y, int ya, int rows) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        for (int blk = 0; blk < blocks; blk++) {
            int so = sa + blk * PANEL;
            FloatVector s0 = FloatVector.fromArray(S, scale, so);
            FloatVector s1 = FloatVector.fromArray(S, scale, so + V);
            for (int k = blk * 32, end = k + 32; k < end; k += 2) {
                int no = a + (k / 2) * PANEL;
                FloatVector xe = FloatVector.broadcast(S, x[xo + k]);
                FloatVector xd = FloatVector.broadcast(S, x[xo + k + 1]);
                IntVector n0 = bytes(no), n1 = bytes(no + V);
                a0 = low(n0, s0).fma(xe, a0);
                a1 = low(n1, s1).fma(xe, a1);
                a0 = high(n0, s0).fma(xd, a0);
                a1 = high(n1, s1).fma(xd, a1);
            }
        }
        PanelKernels.store(a0, a1, y, ya, rows);
    }

    private IntVector bytes(int off) {
        return (IntVector) ByteVector.fromArray(B, nib, off).convertShape(VectorOperators.B2I, I, 0);
    }

    /** (float) (low nibble - 8) * scale, as {@link #dequantizePanel}. */
    private static FloatVector low(IntVector n, FloatVector s) {
        return ((FloatVector) n.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(s);
    }

    private static FloatVector high(IntVector n, FloatVector s) {
        return ((FloatVector) n.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                .mul(s);
    }
}

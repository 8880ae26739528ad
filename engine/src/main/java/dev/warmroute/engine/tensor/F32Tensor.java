package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/** F32 weights, panel layout {@code w[panel][k][32]}; the kernels read them directly. */
public final class F32Tensor extends Tensor {

    private final float[] w; // (panels, cols, 32)

    F32Tensor(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols);
        w = new float[panels * cols * PANEL];
        float[] tmp = new float[PANEL * cols];
        for (int p = 0; p < panels; p++) {
            int n = rowsIn(p);
            MemorySegment.copy(data, F32_LE, (long) p * PANEL * cols * 4, tmp, 0, n * cols);
            java.util.Arrays.fill(tmp, n * cols, tmp.length, 0f);
            int base = p * cols * PANEL;
            for (int j = 0; j < PANEL; j++) {
                for (int k = 0; k < cols; k++) {
                    w[base + k * PANEL + j] = tmp[j * cols + k];
                }
            }
        }
    }

    /** For tests and the synthetic in-memory models: from a row-major array. */
    public static F32Tensor of(String name, int rows, int cols, float[] rowMajor) {
        MemorySegment seg = MemorySegment.ofArray(toBytes(rowMajor));
        return new F32Tensor(name, rows, cols, seg);
    }

    private static byte[] toBytes(float[] f) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(f.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(f);
        return bb.array();
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public long bytes() {
        return 4L * w.length;
    }

    @Override
    public int scratchFloats() {
        return 0;
    }

    @Override
    public void row(int r, float[] out, int off) {
        int base = (r / PANEL) * cols * PANEL + r % PANEL;
        for (int k = 0; k < cols; k++) {
            out[off + k] = w[base + k * PANEL];
        }
    }

    @Override
    void dequantizePanel(int p, float[] out) {
        System.arraycopy(w, p * cols * PANEL, out, 0, cols * PANEL);
    }

    @Override
    public void matmul(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                       int p0, int p1, float[] scratch) {
        int p = p0;
        if (Simd.VECTOR && tokens < 4) {
            for (; p + 1 < p1; p += 2) {
                for (int t = 0; t < tokens; t++) {
                    int yo = yOff + t * yStride + p * PANEL;
                    PanelKernels.matmul1x2(w, p * cols * PANEL, (p + 1) * cols * PANEL, cols, x, xOff + t * xStride,
                            y, yo, yo + PANEL, rowsIn(p + 1));
                }
            }
        }
        for (; p < p1; p++) {
            PanelKernels.matmul(w, p * cols * PANEL, cols, x, xOff, xStride, tokens, y, yOff + p * PANEL, yStride,
                    rowsIn(p));
        }
    }

    @Override
    public void matmulScalar(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                             float[] scratch) {
        for (int p = 0; p < panels; p++) {
            PanelKernels.scalar(w, p * cols * PANEL, cols, x, xOff, xStride, tokens, y, yOff + p * PANEL, yStride,
                    rowsIn(p));
        }
    }
}

package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/** IEEE half-precision weights, panel layout {@code h[panel][k][32]}, widened to float per panel (exact). */
public sealed class F16Tensor extends Tensor permits BF16Tensor {

    final short[] h; // (panels, cols, 32)

    F16Tensor(String name, int rows, int cols, MemorySegment data, boolean unused) {
        super(name, rows, cols);
        h = new short[panels * cols * PANEL];
        for (int p = 0; p < panels; p++) {
            int n = rowsIn(p);
            int base = p * cols * PANEL;
            for (int j = 0; j < n; j++) {
                long rowOff = ((long) (p * PANEL + j) * cols) * 2;
                for (int k = 0; k < cols; k++) {
                    h[base + k * PANEL + j] = data.get(I16_LE, rowOff + 2L * k);
                }
            }
        }
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public long bytes() {
        return 2L * h.length;
    }

    float widen(short s) {
        return Float.float16ToFloat(s);
    }

    @Override
    public void row(int r, float[] out, int off) {
        int base = (r / PANEL) * cols * PANEL + r % PANEL;
        for (int k = 0; k < cols; k++) {
            out[off + k] = widen(h[base + k * PANEL]);
        }
    }

    @Override
    void dequantizePanel(int p, float[] out) {
        int base = p * cols * PANEL;
        int n = cols * PANEL;
        for (int i = 0; i < n; i++) {
            out[i] = widen(h[base + i]);
        }
    }
}

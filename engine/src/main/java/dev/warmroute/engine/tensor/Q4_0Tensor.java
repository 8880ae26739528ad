package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Q4_0: blocks of 32 4-bit values (stored q + 8) with one f16 scale; element i of a block is the low nibble of byte
 * i for i < 16, the high nibble of byte i - 16 otherwise. Repacked as {@code nib[panel][k/2][32]} (low nibble = even
 * k, high nibble = odd k) and {@code scale[panel][k/32][32]}; value {@code (q - 8) * scale} (exact in float).
 */
public final class Q4_0Tensor extends Tensor {

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
        nib = new byte[panels * (cols / 2) * PANEL];
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
        return nib.length + 4L * scale.length;
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
}

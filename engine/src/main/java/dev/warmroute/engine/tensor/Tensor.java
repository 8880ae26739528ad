package dev.warmroute.engine.tensor;

import static dev.warmroute.engine.tensor.PanelKernels.PANEL;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;

/**
 * A weight matrix of {@code rows x cols} (GGUF dims {cols, rows}), one subclass per storage type.
 *
 * <p>Loading repacks the file's row-major data once into panels of 32 rows stored k-major (see {@link PanelKernels}):
 * the kernels vectorise across output rows so that every dot product is one sequential FMA chain (bitwise
 * reproducible for any batch or thread split). The repacked arrays live on the heap; the mapping is not needed after
 * load. Quantised types dequantise a panel into a float scratch and reuse it for every token of a prefill chunk; the
 * products {@code q * scale} are exact in float, so a fused kernel and the scratch path give the same bits.
 */
public abstract sealed class Tensor permits F32Tensor, F16Tensor, Q8_0Tensor, Q4_0Tensor {

    public static final Set<GgmlType> SUPPORTED =
            EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0);
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final String name;
    final int rows;
    final int cols;
    final int panels;

    Tensor(String name, int rows, int cols) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.panels = (rows + PANEL - 1) / PANEL;
    }

    /** Loads a 2-D weight (GGUF dims {cols, rows}) from its mapped bytes. */
    public static Tensor load(GgufTensorInfo info, MemorySegment data) {
        if (info.rank() > 2) {
            throw new IllegalArgumentException("tensor " + info.name() + " has " + info.rank()
                    + " dimensions, expected a matrix");
        }
        long cols = info.dim(0);
        long rows = info.dim(1);
        if (rows * cols > Integer.MAX_VALUE - 64 || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("tensor " + info.name() + " of " + rows + " x " + cols
                    + " is too large for this engine (at most 2^31 elements)");
        }
        int r = (int) rows;
        int c = (int) cols;
        return switch (info.type()) {
            case F32 -> new F32Tensor(info.name(), r, c, data);
            case F16 -> new F16Tensor(info.name(), r, c, data, false);
            case BF16 -> new BF16Tensor(info.name(), r, c, data);
            case Q8_0 -> new Q8_0Tensor(info.name(), r, c, data);
            case Q4_0 -> new Q4_0Tensor(info.name(), r, c, data);
            default -> throw unsupported(info);
        };
    }

    /** Loads a 1-D weight (norm gains) as floats; F32, F16 and BF16 only. */
    public static float[] loadVector(GgufTensorInfo info, MemorySegment data) {
        int n = (int) info.elementCount();
        float[] out = new float[n];
        switch (info.type()) {
            case F32 -> MemorySegment.copy(data, F32_LE, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(data.get(I16_LE, 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(data.get(I16_LE, 2L * i) << 16);
                }
            }
            default -> throw new IllegalArgumentException("tensor " + info.name() + " has type " + info.type()
                    + "; vectors (norm weights) must be F32, F16 or BF16");
        }
        return out;
    }

    static IllegalArgumentException unsupported(GgufTensorInfo info) {
        return new IllegalArgumentException("tensor " + info.name() + " has type " + info.type()
                + ", which this engine does not support (supported: F32, F16, BF16, Q8_0, Q4_0)");
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Panels of 32 rows: the unit of work split across threads. */
    public int panels() {
        return panels;
    }

    public abstract GgmlType type();

    /** Bytes held on the heap. */
    public abstract long bytes();

    /** Row r, dequantised, into out[off, off + cols). */
    public abstract void row(int r, float[] out, int off);

    /** Panel p dequantised to floats, k-major: out[k * 32 + j] = w[p * 32 + j][k] (0 past the last row). */
    abstract void dequantizePanel(int p, float[] out);

    /** Floats of scratch {@link #matmul} needs (0 for F32). */
    public int scratchFloats() {
        return cols * PANEL;
    }

    /** Valid rows of panel p. */
    final int rowsIn(int p) {
        return Math.min(PANEL, rows - p * PANEL);
    }

    /**
     * y[t][r] = sum_k w[r][k] x[t][k] for the rows of panels [p0, p1) and tokens t < tokens. x row t starts at
     * xOff + t * xStride, y row t at yOff + t * yStride (y columns are row indices of this matrix).
     */
    public void matmul(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                       int p0, int p1, float[] scratch) {
        for (int p = p0; p < p1; p++) {
            dequantizePanel(p, scratch);
            PanelKernels.matmul(scratch, 0, cols, x, xOff, xStride, tokens, y, yOff + p * PANEL, yStride, rowsIn(p));
        }
    }

    /** The same result through the scalar kernels (tests compare the two bit for bit). */
    public void matmulScalar(float[] x, int xOff, int xStride, int tokens, float[] y, int yOff, int yStride,
                             float[] scratch) {
        for (int p = 0; p < panels; p++) {
            dequantizePanelScalar(p, scratch);
            PanelKernels.scalar(scratch, 0, cols, x, xOff, xStride, tokens, y, yOff + p * PANEL, yStride, rowsIn(p));
        }
    }

    void dequantizePanelScalar(int p, float[] out) {
        dequantizePanel(p, out);
    }

    /** Reads panel p's rows (row-major, raw bytes of the file) into tmp: row j at j * rowBytes. */
    static void readPanelRows(MemorySegment data, long rowBytes, int rows, int p, byte[] tmp) {
        int n = Math.min(PANEL, rows - p * PANEL);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) p * PANEL * rowBytes, tmp, 0, (int) (n * rowBytes));
        java.util.Arrays.fill(tmp, (int) (n * rowBytes), tmp.length, (byte) 0);
    }

    @Override
    public String toString() {
        return name + " " + type() + " " + rows + "x" + cols;
    }
}

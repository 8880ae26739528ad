package dev.warmroute.engine.quant;

import dev.warmroute.engine.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * Float rows to and from the bytes of the tensor types the writer and converter handle: F32, F16, BF16, Q8_0 and
 * Q4_0. Rounding follows ggml (fp16: round to nearest even, as F16C does; bf16: round to nearest even, NaN kept
 * quiet), so files we write equal llama.cpp's for the same floats.
 */
public final class TensorCodec {

    public static final Set<GgmlType> SUPPORTED = Set.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0);

    private TensorCodec() {}

    public static boolean supports(GgmlType t) {
        return SUPPORTED.contains(t);
    }

    /** Whether a row of {@code rowLength} elements can be stored as {@code t} (quantised types need whole blocks). */
    public static boolean fits(GgmlType t, long rowLength) {
        return rowLength % t.blockSize() == 0;
    }

    /** Encodes {@code n} floats from {@code x[off]} into {@code out} at its position. */
    public static void encode(GgmlType t, float[] x, int off, int n, ByteBuffer out) {
        out.order(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case F32 -> {
                for (int i = off; i < off + n; i++) {
                    out.putFloat(x[i]);
                }
            }
            case F16 -> {
                for (int i = off; i < off + n; i++) {
                    out.putShort(Float.floatToFloat16(x[i]));
                }
            }
            case BF16 -> {
                for (int i = off; i < off + n; i++) {
                    out.putShort(toBf16(x[i]));
                }
            }
            case Q8_0 -> Q8_0.quantize(x, off, n, out);
            case Q4_0 -> Q4_0.quantize(x, off, n, out);
            default -> throw unsupported(t);
        }
    }

    /** Decodes {@code n} floats from {@code in} at its position into {@code x[off]}. */
    public static void decode(GgmlType t, ByteBuffer in, float[] x, int off, int n) {
        in.order(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case F32 -> {
                for (int i = off; i < off + n; i++) {
                    x[i] = in.getFloat();
                }
            }
            case F16 -> {
                for (int i = off; i < off + n; i++) {
                    x[i] = Float.float16ToFloat(in.getShort());
                }
            }
            case BF16 -> {
                for (int i = off; i < off + n; i++) {
                    x[i] = Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> Q8_0.dequantize(in, x, off, n);
            case Q4_0 -> Q4_0.dequantize(in, x, off, n);
            default -> throw unsupported(t);
        }
    }

    /** ggml's {@code ggml_compute_fp32_to_bf16}. */
    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    private static IllegalArgumentException unsupported(GgmlType t) {
        return new IllegalArgumentException("tensor type " + t + " is not supported here (supported: F32, F16, BF16, "
                + "Q8_0, Q4_0)");
    }
}

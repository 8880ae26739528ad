package dev.warmroute.engine.quant;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's Q8_0: blocks of 32 weights stored as an fp16 scale {@code d} and 32 signed bytes {@code q}, weight =
 * {@code d * q}; 34 bytes per block. Quantisation is llama.cpp's reference {@code quantize_row_q8_0_ref}:
 * {@code d = max|x| / 127}, {@code q = roundf(x / d)} (half away from zero), computed in float as C does, so the
 * bytes equal llama.cpp's.
 */
public final class Q8_0 {

    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;

    private Q8_0() {}

    /** Quantises {@code n} values (a multiple of 32) of {@code x} from {@code off} into {@code out} (little-endian). */
    public static void quantize(float[] x, int off, int n, ByteBuffer out) {
        checkBlocks(n);
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (int b = off; b < off + n; b += BLOCK) {
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(x[b + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1.0f / d : 0f;
            out.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK; j++) {
                out.put((byte) roundf(x[b + j] * id));
            }
        }
    }

    /** Dequantises {@code n} values (a multiple of 32) from {@code in} at its position into {@code x} from off. */
    public static void dequantize(ByteBuffer in, float[] x, int off, int n) {
        checkBlocks(n);
        in.order(ByteOrder.LITTLE_ENDIAN);
        for (int b = off; b < off + n; b += BLOCK) {
            float d = Float.float16ToFloat(in.getShort());
            for (int j = 0; j < BLOCK; j++) {
                x[b + j] = d * in.get();
            }
        }
    }

    /** C's roundf: to nearest, halves away from zero (Math.round would send -2.5 to -2). */
    static int roundf(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }

    static void checkBlocks(int n) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("row length " + n + " is not a multiple of the block size " + BLOCK);
        }
    }
}

package dev.warmroute.engine.quant;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's Q4_0: blocks of 32 weights stored as an fp16 scale {@code d} and 16 bytes of 4-bit values, weight =
 * {@code d * (q - 8)}; byte j holds element j in its low nibble and element j + 16 in its high nibble; 18 bytes
 * per block. Quantisation is llama.cpp's reference {@code quantize_row_q4_0_ref}: the element of largest magnitude
 * (with its sign) maps to -8, {@code d = max / -8}, {@code q = min(15, (int8)(x / d + 8.5))}.
 */
public final class Q4_0 {

    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;

    private Q4_0() {}

    public static void quantize(float[] x, int off, int n, ByteBuffer out) {
        Q8_0.checkBlocks(n);
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (int b = off; b < off + n; b += BLOCK) {
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < BLOCK; j++) {
                float v = x[b + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            out.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, (byte) (int) (x[b + j] * id + 8.5f));
                int hi = Math.min(15, (byte) (int) (x[b + BLOCK / 2 + j] * id + 8.5f));
                out.put((byte) (lo | (hi << 4)));
            }
        }
    }

    public static void dequantize(ByteBuffer in, float[] x, int off, int n) {
        Q8_0.checkBlocks(n);
        in.order(ByteOrder.LITTLE_ENDIAN);
        for (int b = off; b < off + n; b += BLOCK) {
            float d = Float.float16ToFloat(in.getShort());
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = in.get() & 0xFF;
                x[b + j] = d * ((q & 0x0F) - 8);
                x[b + BLOCK / 2 + j] = d * ((q >>> 4) - 8);
            }
        }
    }
}

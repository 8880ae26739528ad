package dev.warmroute.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.engine.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizerTest {

    /** 64 values; the expected bytes below come from a NumPy float32 transcription of ggml's reference code. */
    static float[] fixture() {
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            x[i] = (float) (Math.sin(i * 0.37) * 3.0 + (i % 7 == 0 ? 0.5 : 0.0));
        }
        return x;
    }

    static final String Q8_EXPECTED = "092712274a626d69574b14ecc6a99793b1b7d901284a627f69573913ebc6ba97939fc926b5d902"
            + "3d4d66716c593a26e9c3a493909cc8d9022b4e66717f593912e9c2a4a5";
    static final String Q4_EXPECTED = "fbb6a78653322101133347799ccecffffdedbcb6edcaa88453322111022446799cceefef";

    @Test
    void q8_0BytesEqualGgmlReferenceQuantisation() {
        ByteBuffer out = ByteBuffer.allocate(2 * Q8_0.BLOCK_BYTES);
        Q8_0.quantize(fixture(), 0, 64, out);
        assertEquals(Q8_EXPECTED, HexFormat.of().formatHex(out.array()));
    }

    @Test
    void q4_0BytesEqualGgmlReferenceQuantisation() {
        ByteBuffer out = ByteBuffer.allocate(2 * Q4_0.BLOCK_BYTES);
        Q4_0.quantize(fixture(), 0, 64, out);
        assertEquals(Q4_EXPECTED, HexFormat.of().formatHex(out.array()));
    }

    @Test
    void roundingIsHalfAwayFromZeroLikeCsRoundf() {
        assertEquals(3, Q8_0.roundf(2.5f));
        assertEquals(-3, Q8_0.roundf(-2.5f));
        assertEquals(0, Q8_0.roundf(0.49999997f));
        assertEquals(-127, Q8_0.roundf(-127f));
    }

    @Test
    void q8_0ErrorPerBlockIsAtMostHalfAStep() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            // Scales whose step d = max/127 is a normal fp16 number (subnormal scales lose relative precision in ggml too).
            float scale = (float) Math.pow(10, r.nextDouble(-1.5, 3));
            float[] x = new float[32];
            for (int j = 0; j < 32; j++) {
                x[j] = (float) (r.nextGaussian() * scale);
            }
            float[] y = roundTrip(GgmlType.Q8_0, x);
            float amax = amax(x);
            // Half a quantisation step, plus the fp16 rounding of the scale (relative 2^-11) times the largest q.
            double bound = amax / 127.0 * 0.5 + amax * Math.pow(2, -11) + 1e-30;
            for (int j = 0; j < 32; j++) {
                assertTrue(Math.abs(x[j] - y[j]) <= bound, "element " + j + ": " + x[j] + " -> " + y[j]);
            }
        }
    }

    @Test
    void q4_0ErrorPerBlockIsAtMostOneStep() {
        SplittableRandom r = new SplittableRandom(11);
        for (int trial = 0; trial < 200; trial++) {
            float[] x = new float[32];
            for (int j = 0; j < 32; j++) {
                x[j] = (float) r.nextGaussian();
            }
            float[] y = roundTrip(GgmlType.Q4_0, x);
            float step = amax(x) / 8f;
            // Half a step in general; a full step for values clamped at q = 15 on the far side of the extreme.
            double bound = step * (1 + Math.pow(2, -10) * 8);
            double sum = 0;
            for (int j = 0; j < 32; j++) {
                assertTrue(Math.abs(x[j] - y[j]) <= bound, "element " + j + ": " + x[j] + " -> " + y[j]);
                sum += Math.abs(x[j] - y[j]);
            }
            assertTrue(sum / 32 <= step * 0.5, "mean error " + sum / 32 + " vs step " + step);
        }
    }

    @Test
    void anAllZeroBlockQuantisesToZeroScale() {
        ByteBuffer q8 = ByteBuffer.allocate(34);
        Q8_0.quantize(new float[32], 0, 32, q8);
        assertArrayEquals(new byte[34], q8.array());
        ByteBuffer q4 = ByteBuffer.allocate(18);
        Q4_0.quantize(new float[32], 0, 32, q4);
        // ggml computes d = max / -8 = -0.0 here and stores it as the fp16 bits 0x8000, as we do.
        assertEquals((short) 0x8000, q4.getShort(0));
        for (int i = 2; i < 18; i++) {
            assertEquals((byte) 0x88, q4.get(i));
        }
        for (float v : roundTrip(GgmlType.Q4_0, new float[32])) {
            assertEquals(0.0, v, 0.0);
        }
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        float[] x = {1f, -2.5f, 65504f, 1e-8f, 0.1f, Float.NaN, Float.POSITIVE_INFINITY};
        float[] f16 = roundTrip(GgmlType.F16, x);
        assertEquals(0.099975586f, f16[4]);
        assertEquals(65504f, f16[2]);
        assertTrue(Float.isNaN(f16[5]));
        float[] bf16 = roundTrip(GgmlType.BF16, x);
        assertEquals(0.10009765625f, bf16[4]);
        assertTrue(Float.isNaN(bf16[5]));
        assertEquals(Float.POSITIVE_INFINITY, bf16[6]);
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
        assertEquals(1f, roundTrip(GgmlType.BF16, new float[] {1f + 0x1p-8f})[0]);
        assertArrayEquals(x, roundTrip(GgmlType.F32, x));
    }

    @Test
    void rowsThatAreNotWholeBlocksAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q8_0.quantize(new float[40], 0, 40, ByteBuffer.allocate(100)));
        assertTrue(e.getMessage().contains("40"), e.getMessage());
        assertTrue(TensorCodec.fits(GgmlType.Q4_0, 64));
        assertTrue(!TensorCodec.fits(GgmlType.Q4_0, 172));
    }

    static float[] roundTrip(GgmlType t, float[] x) {
        ByteBuffer buf = ByteBuffer.allocate((int) t.bytesFor(x.length));
        TensorCodec.encode(t, x, 0, x.length, buf);
        assertEquals(buf.capacity(), buf.position(), "bytes written for " + t);
        buf.flip();
        float[] y = new float[x.length];
        TensorCodec.decode(t, buf, y, 0, x.length);
        return y;
    }

    static float amax(float[] x) {
        float m = 0;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}

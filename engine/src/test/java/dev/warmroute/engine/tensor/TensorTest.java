package dev.warmroute.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.warmroute.engine.RandomLlama;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TensorTest {

    private static final int ROWS = 70; // three panels, the last one partial
    private static final int COLS = 96;

    private static Tensor tensor(String type, float[] w) {
        GgmlType t = switch (type) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> GgmlType.Q4_0;
        };
        byte[] bytes = RandomLlama.encode(w, type);
        return Tensor.load(new GgufTensorInfo("w", new long[] {COLS, ROWS}, t, 0), MemorySegment.ofArray(bytes));
    }

    private static float[] randoms(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return w;
    }

    @Test
    void everyTypeMultipliesLikeAPlainFmaChainOverItsDequantisedRows() {
        float[] w = randoms(ROWS * COLS, 1);
        int tokens = 13; // a tile of 8, one of 4, one single token
        float[] x = randoms(tokens * COLS, 2);
        for (String type : new String[] {"f32", "f16", "bf16", "q8_0", "q4_0"}) {
            Tensor t = tensor(type, w);
            float[] scratch = new float[Math.max(1, t.scratchFloats())];
            for (int n : new int[] {1, 2, 4, tokens}) {
                float[] y = new float[n * ROWS];
                t.matmul(x, 0, COLS, n, y, 0, ROWS, 0, t.panels(), scratch);
                float[] row = new float[COLS];
                for (int r = 0; r < ROWS; r++) {
                    t.row(r, row, 0);
                    for (int tok = 0; tok < n; tok++) {
                        float acc = type.equals("q8_0") ? q8Chain(t, r, x, tok * COLS) : 0f;
                        for (int k = 0; k < COLS && !type.equals("q8_0"); k++) {
                            acc = Math.fma(row[k], x[tok * COLS + k], acc);
                        }
                        assertEquals(Float.floatToRawIntBits(acc), Float.floatToRawIntBits(y[tok * ROWS + r]),
                                type + " row " + r + " token " + tok + " of " + n);
                    }
                }
                float[] ys = new float[n * ROWS];
                t.matmulScalar(x, 0, COLS, n, ys, 0, ROWS, scratch);
                for (int i = 0; i < ys.length; i++) {
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(ys[i]), type + " scalar twin");
                }
            }
        }
    }

    /** Q8_0's definition: per block of 32, a chain over the integer values, then fma with the block's scale. */
    private static float q8Chain(Tensor t, int r, float[] x, int xo) {
        float[] row = new float[COLS];
        t.row(r, row, 0);
        float total = 0f;
        for (int b = 0; b < COLS / 32; b++) {
            float amax = 0f;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(row[b * 32 + i]));
            }
            // recover the integer values and the scale from the dequantised row: the largest |q| is 127
            float d = amax / 127f;
            float part = 0f;
            for (int i = 0; i < 32; i++) {
                part = Math.fma((float) Math.round(row[b * 32 + i] / d), x[xo + b * 32 + i], part);
            }
            total = Math.fma(part, d, total);
        }
        return total;
    }

    @Test
    void dequantisedRowsTrackTheOriginalWeights() {
        float[] w = randoms(ROWS * COLS, 3);
        float[] tol = {0f, 1e-3f, 8e-3f, 1e-2f, 0.15f};
        String[] types = {"f32", "f16", "bf16", "q8_0", "q4_0"};
        for (int i = 0; i < types.length; i++) {
            Tensor t = tensor(types[i], w);
            float[] row = new float[COLS];
            for (int r = 0; r < ROWS; r++) {
                t.row(r, row, 0);
                for (int k = 0; k < COLS; k++) {
                    assertEquals(w[r * COLS + k], row[k], tol[i], types[i] + " [" + r + "][" + k + "]");
                }
            }
        }
    }

    @Test
    void expMatchesItsScalarTwinAndTheTrueValue() {
        float[] xs = new float[16];
        float[] out = new float[16];
        SplittableRandom r = new SplittableRandom(5);
        for (int round = 0; round < 2000; round++) {
            for (int i = 0; i < 16; i++) {
                xs[i] = (float) (r.nextDouble() * 180 - 90);
            }
            for (int i = 0; i < 16; i += Simd.LANES) {
                Ops.exp(jdk.incubator.vector.FloatVector.fromArray(Simd.S, xs, i)).intoArray(out, i);
            }
            for (int i = 0; i < 16; i++) {
                float s = Ops.exp(xs[i]);
                assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(out[i]), "exp(" + xs[i] + ")");
                double truth = Math.exp(Math.min(Math.max(xs[i], -87.33654f), 88.0f));
                assertEquals(truth, s, truth * 3e-7, "exp(" + xs[i] + ")");
            }
        }
    }
}

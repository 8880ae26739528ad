package dev.warmroute.engine;

import dev.warmroute.engine.gguf.TestGgufBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Small random-weight llama GGUF files for tests (no tokenizer): odd sizes on purpose (partial weight panels,
 * grouped-query attention, a head dimension that uses the vector value path).
 */
public final class RandomLlama {
    private RandomLlama() {}

    public static final int DIM = 96;
    public static final int HEADS = 3;
    public static final int KV_HEADS = 1;
    public static final int HIDDEN = 160;
    public static final int LAYERS = 2;
    public static final int VOCAB = 100;
    public static final int CONTEXT = 256;

    /** type: "f32", "f16", "bf16", "q8_0" or "q4_0" (matrices; norms stay F32). */
    public static Path write(Path file, String type, long seed) throws IOException {
        return builder(type, seed, "llama").write(file);
    }

    public static TestGgufBuilder builder(String type, long seed, String arch) {
        SplittableRandom r = new SplittableRandom(seed);
        TestGgufBuilder b = new TestGgufBuilder(3)
                .string("general.architecture", arch)
                .string("general.name", "random")
                .bool("warmroute.synthetic", true)
                .u32("llama.context_length", CONTEXT)
                .u32("llama.embedding_length", DIM)
                .u32("llama.feed_forward_length", HIDDEN)
                .u32("llama.block_count", LAYERS)
                .u32("llama.attention.head_count", HEADS)
                .u32("llama.attention.head_count_kv", KV_HEADS)
                .f32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .f32("llama.rope.freq_base", 10000f);
        int kvDim = DIM / HEADS * KV_HEADS;
        matrix(b, "token_embd.weight", VOCAB, DIM, type, r, 1.0f);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            norm(b, p + "attn_norm.weight", DIM, r);
            matrix(b, p + "attn_q.weight", DIM, DIM, type, r, 0.2f);
            matrix(b, p + "attn_k.weight", kvDim, DIM, type, r, 0.2f);
            matrix(b, p + "attn_v.weight", kvDim, DIM, type, r, 0.2f);
            matrix(b, p + "attn_output.weight", DIM, DIM, type, r, 0.2f);
            norm(b, p + "ffn_norm.weight", DIM, r);
            matrix(b, p + "ffn_gate.weight", HIDDEN, DIM, type, r, 0.2f);
            matrix(b, p + "ffn_down.weight", DIM, HIDDEN, type, r, 0.2f);
            matrix(b, p + "ffn_up.weight", HIDDEN, DIM, type, r, 0.2f);
        }
        norm(b, "output_norm.weight", DIM, r);
        matrix(b, "output.weight", VOCAB, DIM, type, r, 0.5f);
        return b;
    }

    private static void norm(TestGgufBuilder b, String name, int n, SplittableRandom r) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 0.8f + 0.4f * (float) r.nextDouble();
        }
        b.tensorF32(name, w, n);
    }

    static float[] randoms(int n, SplittableRandom r, float scale) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return w;
    }

    private static void matrix(TestGgufBuilder b, String name, int rows, int cols, String type,
                               SplittableRandom r, float scale) {
        float[] w = randoms(rows * cols, r, scale);
        b.tensor(name, typeId(type), encode(w, type), cols, rows);
    }

    static int typeId(String type) {
        return switch (type) {
            case "f32" -> 0;
            case "f16" -> 1;
            case "q4_0" -> 2;
            case "q8_0" -> 8;
            case "bf16" -> 30;
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** Row-major floats in the GGUF encoding of {@code type} (reference quantisers as in ggml). */
    public static byte[] encode(float[] w, String type) {
        ByteBuffer bb;
        switch (type) {
            case "f32" -> {
                bb = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : w) {
                    bb.putFloat(f);
                }
            }
            case "f16" -> {
                bb = ByteBuffer.allocate(w.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : w) {
                    bb.putShort(Float.floatToFloat16(f));
                }
            }
            case "bf16" -> {
                bb = ByteBuffer.allocate(w.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : w) {
                    bb.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
                }
            }
            case "q8_0" -> {
                bb = ByteBuffer.allocate(w.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
                for (int blk = 0; blk < w.length; blk += 32) {
                    float amax = 0;
                    for (int i = 0; i < 32; i++) {
                        amax = Math.max(amax, Math.abs(w[blk + i]));
                    }
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    bb.putShort(Float.floatToFloat16(d));
                    for (int i = 0; i < 32; i++) {
                        bb.put((byte) Math.round(w[blk + i] * id));
                    }
                }
            }
            case "q4_0" -> {
                bb = ByteBuffer.allocate(w.length / 32 * 18).order(ByteOrder.LITTLE_ENDIAN);
                for (int blk = 0; blk < w.length; blk += 32) {
                    float amax = 0;
                    float max = 0;
                    for (int i = 0; i < 32; i++) {
                        if (Math.abs(w[blk + i]) > amax) {
                            amax = Math.abs(w[blk + i]);
                            max = w[blk + i];
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0 ? 1f / d : 0f;
                    bb.putShort(Float.floatToFloat16(d));
                    for (int i = 0; i < 16; i++) {
                        int q0 = Math.min(15, (int) (w[blk + i] * id + 8.5f));
                        int q1 = Math.min(15, (int) (w[blk + 16 + i] * id + 8.5f));
                        bb.put((byte) (q0 | (q1 << 4)));
                    }
                }
            }
            default -> throw new IllegalArgumentException(type);
        }
        return bb.array();
    }
}

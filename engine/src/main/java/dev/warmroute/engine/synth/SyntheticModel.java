package dev.warmroute.engine.synth;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufWriter;
import dev.warmroute.engine.quant.ModelQuantizer;
import dev.warmroute.engine.quant.TensorCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a seeded random-weight {@code llama} GGUF that llama.cpp can load as well: standard tensor names and
 * metadata keys, a synthetic SentencePiece vocabulary ({@link SyntheticVocabulary}), {@code general.name} such as
 * "synthetic-15M" and {@code warmroute.synthetic = true}, so it is labelled synthetic wherever it is loaded.
 *
 * <p>The output matrix is tied to the token embedding (no {@code output.weight}; llama.cpp and our loader then use
 * {@code token_embd.weight}), as in llama2.c's stories models, so the 110M shape has 110 M parameters (440 MB in
 * F32). Weights: the embedding N(0, 1/dim), so that logits (embedding rows against the normalised state) have a
 * spread of about one unit and sampling is neither uniform nor one-hot; the other matrices N(0, 0.02²) as in
 * GPT-2/Llama initialisation; norms 1. Every tensor draws from its own
 * generator seeded by (seed, tensor name), so the values do not depend on the order of writing or on the type:
 * the Q8_0 file of a seed is exactly our quantiser applied to the F32 file of that seed. Tensors are generated and
 * written one row at a time, so memory stays small whatever the shape.
 *
 * @param shape   hyper-parameters
 * @param type    type of the 2-D weights (norms are always F32)
 * @param seed    the random seed
 * @param context {@code llama.context_length}
 */
public record SyntheticModel(SyntheticShape shape, GgmlType type, long seed, int context) {

    public static final int DEFAULT_CONTEXT = 2048;
    public static final float NORM_EPS = 1e-5f;
    public static final float ROPE_THETA = 10000f;
    static final double MATRIX_STD = 0.02;

    public SyntheticModel {
        if (!TensorCodec.supports(type)) {
            throw new IllegalArgumentException("--type " + type + " is not supported (f32, f16, bf16, q8_0, q4_0)");
        }
        shape.validate(type);
        if (context < 1 || context > 1 << 20) {
            throw new IllegalArgumentException("--context " + context + " must be between 1 and 1048576");
        }
    }

    /**
     * The stand-in for the reference model where it is absent ({@code cluster up}, the drills and every module's
     * tests): shape tiny, f32, seed 1, the reference model's context length (2048).
     */
    public static final SyntheticModel STAND_IN = new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 1,
            DEFAULT_CONTEXT);

    /**
     * Writes this model into {@code dir} unless it is already there, under a name that says what it is (e.g.
     * {@code synthetic-tiny-f32-s1-c2048.gguf}); written to a temporary file and renamed, so a concurrent reader
     * sees the whole file or none. Returns the file.
     */
    public Path writeOnce(Path dir) throws IOException {
        Path file = dir.resolve(name() + "-" + type.name().toLowerCase(java.util.Locale.ROOT) + "-s" + seed + "-c"
                + context + ".gguf");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, name(), ".tmp");
            write(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    /** {@code general.name}: "synthetic-" + the shape name. */
    public String name() {
        return "synthetic-" + shape.name();
    }

    public void write(Path out) throws IOException {
        SyntheticShape s = shape;
        SyntheticVocabulary vocab = SyntheticVocabulary.of(s.vocab());
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", name())
                .putUInt32("general.file_type", ModelQuantizer.fileType(type))
                .putUInt32("llama.context_length", context)
                .putUInt32("llama.embedding_length", s.dim())
                .putUInt32("llama.block_count", s.layers())
                .putUInt32("llama.feed_forward_length", s.hiddenDim())
                .putUInt32("llama.attention.head_count", s.heads())
                .putUInt32("llama.attention.head_count_kv", s.kvHeads())
                .putUInt32("llama.rope.dimension_count", s.headDim())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", NORM_EPS)
                .putFloat32("llama.rope.freq_base", ROPE_THETA)
                .putUInt32("llama.vocab_size", s.vocab());
        if (type == GgmlType.Q8_0 || type == GgmlType.Q4_0) {
            w.putUInt32("general.quantization_version", 2);
        }
        w.putString("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", vocab.tokens)
                .putFloats("tokenizer.ggml.scores", vocab.scores)
                .putInt32s("tokenizer.ggml.token_type", vocab.types)
                .putUInt32("tokenizer.ggml.unknown_token_id", 0)
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putBool("tokenizer.ggml.add_eos_token", false)
                .putBool("warmroute.synthetic", true)
                .putString("warmroute.synthetic.shape", s.name())
                .putUInt64("warmroute.synthetic.seed", seed);

        matrix(w, "token_embd.weight", s.dim(), s.vocab(), 1.0 / Math.sqrt(s.dim()));
        ones(w, "output_norm.weight", s.dim());
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            ones(w, p + "attn_norm.weight", s.dim());
            matrix(w, p + "attn_q.weight", s.dim(), s.dim(), MATRIX_STD);
            matrix(w, p + "attn_k.weight", s.dim(), s.kvDim(), MATRIX_STD);
            matrix(w, p + "attn_v.weight", s.dim(), s.kvDim(), MATRIX_STD);
            matrix(w, p + "attn_output.weight", s.dim(), s.dim(), MATRIX_STD);
            ones(w, p + "ffn_norm.weight", s.dim());
            matrix(w, p + "ffn_gate.weight", s.dim(), s.hiddenDim(), MATRIX_STD);
            matrix(w, p + "ffn_down.weight", s.hiddenDim(), s.dim(), MATRIX_STD);
            matrix(w, p + "ffn_up.weight", s.dim(), s.hiddenDim(), MATRIX_STD);
        }
        w.write(out);
    }

    /** A {@code rows x cols} matrix (ggml dims {cols, rows}), generated and encoded row by row. */
    private void matrix(GgufWriter w, String name, int cols, int rows, double std) {
        w.addTensor(name, type, new long[] {cols, rows}, sink -> {
            SplitMix64 r = new SplitMix64(tensorSeed(seed, name));
            float[] row = new float[cols];
            ByteBuffer bytes = ByteBuffer.allocate((int) type.bytesFor(cols));
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    row[j] = (float) (r.nextGaussian() * std);
                }
                bytes.clear();
                TensorCodec.encode(type, row, 0, cols, bytes);
                sink.write(bytes.flip());
            }
        });
    }

    private static void ones(GgufWriter w, String name, int n) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, sink -> {
            float[] v = new float[n];
            java.util.Arrays.fill(v, 1f);
            ByteBuffer b = ByteBuffer.allocate(4 * n);
            TensorCodec.encode(GgmlType.F32, v, 0, n, b);
            sink.write(b.flip());
        });
    }

    /** Mixes the seed with a 64-bit FNV-1a hash of the tensor name (stable across JVMs and releases). */
    static long tensorSeed(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return seed * 0x9E3779B97F4A7C15L ^ h;
    }
}

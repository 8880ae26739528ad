package dev.warmroute.engine;

import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.gguf.GgufFile;
import java.util.Locale;

/**
 * Hyper-parameters of a loaded model, from the GGUF metadata.
 *
 * @param name        a short name (the file name without extension)
 * @param weightType  storage type of the layer weights, lower case ("f32", "q8_0", ...)
 * @param ropeDim     dimensions per head that RoPE rotates (usually headDim)
 */
public record ModelConfig(String name, String architecture, int dim, int hiddenDim, int layers, int heads,
                          int kvHeads, int headDim, int vocabSize, int contextLength, float ropeTheta, float normEps,
                          String weightType, int ropeDim) {

    /** Width of the keys (and values) of one layer: kvHeads * headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** KV cache bytes per token position: K and V of every layer, as floats. */
    public long kvBytesPerToken() {
        return 2L * layers * kvDim() * Float.BYTES;
    }

    /** Same KV layout: caches (and exports) can move between models of equal shape only. */
    boolean sameKvShape(ModelConfig o) {
        return layers == o.layers && kvHeads == o.kvHeads && headDim == o.headDim;
    }

    /**
     * Reads and checks the hyper-parameters from a GGUF file's metadata (llama.* keys) and the embedding's shape;
     * a missing or out-of-range value fails with a message naming the file and the key.
     */
    static ModelConfig read(GgufFile g) {
        String arch = g.contains("general.architecture") ? g.getString("general.architecture") : "(none)";
        if (!arch.equals("llama")) {
            throw new ModelLoadException(g.path() + ": unsupported architecture '" + arch
                    + "' (metadata general.architecture); this engine runs 'llama'");
        }
        int dim = positive(g, "llama.embedding_length");
        int hidden = positive(g, "llama.feed_forward_length");
        int layers = positive(g, "llama.block_count");
        int heads = positive(g, "llama.attention.head_count");
        int kvHeads = g.contains("llama.attention.head_count_kv") ? positive(g, "llama.attention.head_count_kv")
                : heads;
        if (heads % kvHeads != 0) {
            throw new ModelLoadException(g.path() + ": llama.attention.head_count " + heads
                    + " is not a multiple of llama.attention.head_count_kv " + kvHeads);
        }
        int headDim = g.contains("llama.attention.key_length") ? positive(g, "llama.attention.key_length")
                : dim / heads;
        if (!g.contains("llama.attention.key_length") && dim % heads != 0) {
            throw new ModelLoadException(g.path() + ": llama.embedding_length " + dim
                    + " is not a multiple of llama.attention.head_count " + heads);
        }
        int ropeDim = g.contains("llama.rope.dimension_count") ? positive(g, "llama.rope.dimension_count")
                : headDim;
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new ModelLoadException(g.path() + ": llama.rope.dimension_count " + ropeDim
                    + " must be even and at most the head dimension " + headDim);
        }
        int context = positive(g, "llama.context_length");
        if (context > 1 << 20) {
            throw new ModelLoadException(g.path() + ": llama.context_length " + context + " exceeds the limit "
                    + (1 << 20));
        }
        float theta = g.getFloat("llama.rope.freq_base", 10000f);
        float eps = g.getFloat("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        var embd = g.tensors().get("token_embd.weight");
        if (embd == null) {
            throw new ModelLoadException(g.path() + ": tensor token_embd.weight is missing");
        }
        long vocab = embd.dim(1);
        if (vocab <= 0 || vocab > Integer.MAX_VALUE / 64) {
            throw new ModelLoadException(g.path() + ": vocabulary size " + vocab + " out of range");
        }
        if (g.contains("tokenizer.ggml.tokens")) {
            Object tokens = g.get("tokenizer.ggml.tokens");
            if (tokens instanceof String[] t && t.length != vocab) {
                throw new ModelLoadException(g.path() + ": tokenizer.ggml.tokens has " + t.length
                        + " entries but token_embd.weight has " + vocab + " rows");
            }
        }
        String name = g.path().getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        String type = LlamaWeights.layerType(g).name().toLowerCase(Locale.ROOT);
        return new ModelConfig(name, arch, dim, hidden, layers, heads, kvHeads, headDim, (int) vocab, context,
                theta, eps, type, ropeDim);
    }

    private static int positive(GgufFile g, String key) {
        if (!g.contains(key)) {
            throw new ModelLoadException(g.path() + ": metadata key " + key + " is missing");
        }
        long v;
        try {
            v = g.getLong(key);
        } catch (GgufException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        if (v <= 0 || v > 1 << 24) {
            throw new ModelLoadException(g.path() + ": metadata " + key + " = " + v + " is out of range (1.."
                    + (1 << 24) + ")");
        }
        return (int) v;
    }
}

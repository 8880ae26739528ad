package dev.warmroute.engine;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import dev.warmroute.engine.tensor.Tensor;
import java.util.Arrays;

/** The weights of a llama model, checked against the config's shapes while loading. */
final class LlamaWeights {

    /** One transformer block. */
    record Layer(float[] attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo,
                 float[] ffnNorm, Tensor gate, Tensor down, Tensor up) {}

    final Tensor tokenEmbedding; // (vocab, dim)
    final Layer[] layers;
    final float[] outputNorm;    // (dim)
    final Tensor output;         // (vocab, dim), the embedding itself when tied
    final boolean tiedOutput;

    LlamaWeights(GgufFile g, ModelConfig c) {
        int dim = c.dim();
        int qDim = c.heads() * c.headDim();
        tokenEmbedding = matrix(g, "token_embd.weight", c.vocabSize(), dim);
        layers = new Layer[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    vector(g, p + "attn_norm.weight", dim),
                    matrix(g, p + "attn_q.weight", qDim, dim),
                    matrix(g, p + "attn_k.weight", c.kvDim(), dim),
                    matrix(g, p + "attn_v.weight", c.kvDim(), dim),
                    matrix(g, p + "attn_output.weight", dim, qDim),
                    vector(g, p + "ffn_norm.weight", dim),
                    matrix(g, p + "ffn_gate.weight", c.hiddenDim(), dim),
                    matrix(g, p + "ffn_down.weight", dim, c.hiddenDim()),
                    matrix(g, p + "ffn_up.weight", c.hiddenDim(), dim));
        }
        outputNorm = vector(g, "output_norm.weight", dim);
        tiedOutput = !g.tensors().containsKey("output.weight");
        output = tiedOutput ? tokenEmbedding : matrix(g, "output.weight", c.vocabSize(), dim);
    }

    /** Storage type of the layer weights (what a user calls the model's type). */
    static GgmlType layerType(GgufFile g) {
        GgufTensorInfo t = g.tensors().get("blk.0.attn_q.weight");
        return t == null ? GgmlType.F32 : t.type();
    }

    long bytes() {
        long n = tokenEmbedding.bytes() + 4L * outputNorm.length + (tiedOutput ? 0 : output.bytes());
        for (Layer l : layers) {
            n += l.wq.bytes() + l.wk.bytes() + l.wv.bytes() + l.wo.bytes() + l.gate.bytes() + l.down.bytes()
                    + l.up.bytes() + 4L * (l.attnNorm.length + l.ffnNorm.length);
        }
        return n;
    }

    private static GgufTensorInfo info(GgufFile g, String name) {
        GgufTensorInfo t = g.tensors().get(name);
        if (t == null) {
            throw new ModelLoadException(g.path() + ": tensor " + name + " is missing");
        }
        return t;
    }

    private static Tensor matrix(GgufFile g, String name, int rows, int cols) {
        GgufTensorInfo t = info(g, name);
        if (t.rank() != 2 || t.dim(0) != cols || t.dim(1) != rows) {
            throw new ModelLoadException(g.path() + ": tensor " + name + " has shape " + Arrays.toString(t.dims())
                    + ", expected [" + cols + ", " + rows + "] from the model's metadata");
        }
        if (!Tensor.SUPPORTED.contains(t.type())) {
            throw new ModelLoadException(g.path() + ": tensor " + name + " has type " + t.type()
                    + ", which this engine does not support (supported: F32, F16, BF16, Q8_0, Q4_0)");
        }
        try {
            return Tensor.load(t, g.data(t));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(g.path() + ": " + e.getMessage(), e);
        }
    }

    private static float[] vector(GgufFile g, String name, int n) {
        GgufTensorInfo t = info(g, name);
        if (t.elementCount() != n || t.dim(0) != n) {
            throw new ModelLoadException(g.path() + ": tensor " + name + " has shape " + Arrays.toString(t.dims())
                    + ", expected [" + n + "]");
        }
        try {
            return Tensor.loadVector(t, g.data(t));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(g.path() + ": " + e.getMessage(), e);
        }
    }
}

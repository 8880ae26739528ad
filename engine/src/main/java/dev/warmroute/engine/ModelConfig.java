package dev.warmroute.engine;

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
}

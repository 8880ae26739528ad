package dev.warmroute.engine.synth;

import dev.warmroute.engine.gguf.GgmlType;
import java.util.List;

/**
 * The hyper-parameters of a synthetic llama model. The named shapes are those of llama2.c's TinyStories models, so
 * benchmark figures compare with published llama.cpp and llama2.c numbers for the same shapes.
 */
public record SyntheticShape(String name, int dim, int layers, int heads, int kvHeads, int hiddenDim, int vocab) {

    public static final SyntheticShape S15M = new SyntheticShape("15M", 288, 6, 6, 6, 768, 32000);
    public static final SyntheticShape S110M = new SyntheticShape("110M", 768, 12, 12, 12, 2048, 32000);
    /** Small enough for unit tests (about 0.2 M parameters), with grouped-query attention. */
    public static final SyntheticShape TINY = new SyntheticShape("tiny", 64, 2, 4, 2, 192, 512);
    public static final List<SyntheticShape> NAMED = List.of(S15M, S110M, TINY);

    /** The smallest vocabulary: 3 special tokens, 256 byte tokens and the synthetic base characters. */
    public static final int MIN_VOCAB = SyntheticVocabulary.baseSize();

    public static SyntheticShape named(String name) {
        for (SyntheticShape s : NAMED) {
            if (s.name.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("--shape '" + name + "' is unknown (known: 15M, 110M, tiny, or custom "
                + "with --dim --layers --heads --kv-heads --hidden-dim --vocab)");
    }

    /** A custom shape, named after its size, e.g. "d256-l4". */
    public static SyntheticShape custom(int dim, int layers, int heads, int kvHeads, int hiddenDim, int vocab) {
        return new SyntheticShape("d" + dim + "-l" + layers, dim, layers, heads, kvHeads, hiddenDim, vocab);
    }

    public int headDim() {
        return dim / heads;
    }

    public int kvDim() {
        return headDim() * kvHeads;
    }

    /** Parameters of the weights (the output matrix is tied to the embedding). */
    public long parameters() {
        long perLayer = 2L * dim + (long) dim * dim * 2 + 2L * dim * kvDim() + 3L * dim * hiddenDim;
        return (long) vocab * dim + dim + layers * perLayer;
    }

    /** Checks the shape can be written as {@code type}; messages name the option and the limit. */
    public void validate(GgmlType type) {
        positive("--dim", dim);
        positive("--layers", layers);
        positive("--heads", heads);
        positive("--kv-heads", kvHeads);
        positive("--hidden-dim", hiddenDim);
        if (dim > 16384 || hiddenDim > 65536 || layers > 256 || vocab > 1_000_000) {
            throw new IllegalArgumentException("shape too large: --dim <= 16384, --hidden-dim <= 65536, --layers <= 256,"
                    + " --vocab <= 1000000");
        }
        if (dim % heads != 0) {
            throw new IllegalArgumentException("--dim " + dim + " must be a multiple of --heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("--heads " + heads + " must be a multiple of --kv-heads " + kvHeads);
        }
        if (headDim() % 2 != 0) {
            throw new IllegalArgumentException("head dimension --dim/--heads = " + headDim() + " must be even (RoPE)");
        }
        if (vocab < MIN_VOCAB) {
            throw new IllegalArgumentException("--vocab " + vocab + " is below the minimum of " + MIN_VOCAB
                    + " (special, byte and base character tokens)");
        }
        int block = type.blockSize();
        if (dim % block != 0 || hiddenDim % block != 0) {
            throw new IllegalArgumentException("--dim " + dim + " and --hidden-dim " + hiddenDim
                    + " must be multiples of " + block + " for type " + type);
        }
    }

    private static void positive(String option, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + v);
        }
    }
}

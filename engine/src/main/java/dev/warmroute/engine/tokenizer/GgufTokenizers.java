package dev.warmroute.engine.tokenizer;

import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.gguf.GgufFile;

/**
 * Reads a tokenizer from a GGUF file's {@code tokenizer.ggml.*} metadata, with llama.cpp's defaults for keys a file
 * may leave out. A special-token id of 0xFFFFFFFF (what converters write for "none") counts as absent.
 */
public final class GgufTokenizers {

    private GgufTokenizers() {}

    public static Tokenizer from(GgufFile file) {
        return Tokenizer.of(specFrom(file));
    }

    public static TokenizerSpec specFrom(GgufFile file) {
        if (!file.contains("tokenizer.ggml.model")) {
            throw new GgufException(file.path() + ": metadata key tokenizer.ggml.model is missing (the file has no "
                    + "embedded tokenizer)");
        }
        String model = file.getString("tokenizer.ggml.model");
        if (!file.contains("tokenizer.ggml.tokens")) {
            throw new GgufException(file.path() + ": metadata key tokenizer.ggml.tokens is missing");
        }
        TokenizerSpec.Builder b = TokenizerSpec.builder(model, file.getStringArray("tokenizer.ggml.tokens"));
        if (file.contains("tokenizer.ggml.pre")) {
            b.pre(file.getString("tokenizer.ggml.pre"));
        }
        if (file.contains("tokenizer.ggml.scores")) {
            b.scores(file.getFloatArray("tokenizer.ggml.scores"));
        }
        if (file.contains("tokenizer.ggml.token_type")) {
            b.tokenTypes(file.getIntArray("tokenizer.ggml.token_type"));
        }
        if (file.contains("tokenizer.ggml.merges")) {
            b.merges(file.getStringArray("tokenizer.ggml.merges"));
        }
        Integer bos = id(file, "tokenizer.ggml.bos_token_id");
        Integer eos = id(file, "tokenizer.ggml.eos_token_id");
        Integer unk = id(file, "tokenizer.ggml.unknown_token_id");
        if (bos != null) b.bos(bos);
        if (eos != null) b.eos(eos);
        if (unk != null) b.unknown(unk);
        if (file.contains("tokenizer.ggml.add_bos_token")) {
            b.addBos(file.getBoolean("tokenizer.ggml.add_bos_token", true));
        }
        if (file.contains("tokenizer.ggml.add_space_prefix")) {
            b.addSpacePrefix(file.getBoolean("tokenizer.ggml.add_space_prefix", true));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new GgufException(file.path() + ": " + e.getMessage(), e);
        }
    }

    private static Integer id(GgufFile file, String key) {
        if (!file.contains(key)) {
            return null;
        }
        long v = file.getLong(key);
        if (v == 0xFFFFFFFFL || v == -1) {
            return -1;
        }
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new GgufException(file.path() + ": metadata " + key + " = " + v + " is not a token id");
        }
        return (int) v;
    }
}

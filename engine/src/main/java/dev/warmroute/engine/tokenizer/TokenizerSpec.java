package dev.warmroute.engine.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * Everything a tokenizer is made of, as plain arrays: what GGUF stores under {@code tokenizer.ggml.*}. A model loader
 * fills one from the file's metadata; tests build small ones by hand. Validated on {@link Builder#build()}: every
 * message names the GGUF key it is about.
 *
 * @param model          {@code tokenizer.ggml.model}: "llama" (SentencePiece-style BPE over scores with byte fallback)
 *                       or "gpt2" (byte-level BPE over merges)
 * @param pre            {@code tokenizer.ggml.pre}: the gpt2 pre-tokenizer (regex) name; null for the default
 * @param tokens         {@code tokenizer.ggml.tokens}
 * @param scores         {@code tokenizer.ggml.scores}, one per token (may be null for gpt2)
 * @param tokenTypes     {@code tokenizer.ggml.token_type}, one per token (null: all normal)
 * @param merges         {@code tokenizer.ggml.merges}, "left right" in rank order (gpt2 only)
 * @param bos            {@code tokenizer.ggml.bos_token_id}, or -1
 * @param eos            {@code tokenizer.ggml.eos_token_id}, or -1
 * @param unknown        {@code tokenizer.ggml.unknown_token_id}, or -1
 * @param addBos         {@code tokenizer.ggml.add_bos_token}: whether prompts start with BOS
 * @param addSpacePrefix {@code tokenizer.ggml.add_space_prefix}: SentencePiece's dummy leading space
 */
public record TokenizerSpec(String model, String pre, String[] tokens, float[] scores, int[] tokenTypes,
                            String[] merges, int bos, int eos, int unknown, boolean addBos, boolean addSpacePrefix) {

    public static final String LLAMA = "llama";
    public static final String GPT2 = "gpt2";

    public TokenizerSpec {
        Objects.requireNonNull(model, "tokenizer.ggml.model");
        Objects.requireNonNull(tokens, "tokenizer.ggml.tokens");
    }

    public static Builder builder(String model, String[] tokens) {
        return new Builder(model, tokens);
    }

    /** Builder with llama.cpp's defaults: for "llama" BOS 1, EOS 2, unknown 0, add BOS and the space prefix. */
    public static final class Builder {
        private final String model;
        private final String[] tokens;
        private String pre;
        private float[] scores;
        private int[] tokenTypes;
        private String[] merges;
        private Integer bos;
        private Integer eos;
        private Integer unknown;
        private Boolean addBos;
        private Boolean addSpacePrefix;

        private Builder(String model, String[] tokens) {
            this.model = model;
            this.tokens = tokens;
        }

        public Builder pre(String v) { this.pre = v; return this; }
        public Builder scores(float[] v) { this.scores = v; return this; }
        public Builder tokenTypes(int[] v) { this.tokenTypes = v; return this; }
        public Builder merges(String[] v) { this.merges = v; return this; }
        public Builder bos(int v) { this.bos = v; return this; }
        public Builder eos(int v) { this.eos = v; return this; }
        public Builder unknown(int v) { this.unknown = v; return this; }
        public Builder addBos(boolean v) { this.addBos = v; return this; }
        public Builder addSpacePrefix(boolean v) { this.addSpacePrefix = v; return this; }

        public TokenizerSpec build() {
            if (model == null) {
                throw new IllegalArgumentException("tokenizer.ggml.model is missing");
            }
            if (!model.equals(LLAMA) && !model.equals(GPT2)) {
                throw new IllegalArgumentException("tokenizer.ggml.model '" + model
                        + "' is not supported (supported: llama, gpt2)");
            }
            if (tokens == null || tokens.length == 0) {
                throw new IllegalArgumentException("tokenizer.ggml.tokens is missing or empty");
            }
            int n = tokens.length;
            for (int i = 0; i < n; i++) {
                if (tokens[i] == null) {
                    throw new IllegalArgumentException("tokenizer.ggml.tokens[" + i + "] is null");
                }
            }
            if (scores != null && scores.length != n) {
                throw new IllegalArgumentException("tokenizer.ggml.scores has " + scores.length
                        + " entries, tokenizer.ggml.tokens has " + n);
            }
            if (tokenTypes != null && tokenTypes.length != n) {
                throw new IllegalArgumentException("tokenizer.ggml.token_type has " + tokenTypes.length
                        + " entries, tokenizer.ggml.tokens has " + n);
            }
            boolean spm = model.equals(LLAMA);
            if (!spm && merges == null) {
                throw new IllegalArgumentException("tokenizer.ggml.merges is missing (required for model gpt2)");
            }
            int b = bos != null ? bos : spm ? 1 : -1;
            int e = eos != null ? eos : spm ? 2 : -1;
            int u = unknown != null ? unknown : spm ? 0 : -1;
            checkId("tokenizer.ggml.bos_token_id", b, n);
            checkId("tokenizer.ggml.eos_token_id", e, n);
            checkId("tokenizer.ggml.unknown_token_id", u, n);
            boolean ab = addBos != null ? addBos : spm || PreTokenizer.isLlama3(pre);
            boolean asp = addSpacePrefix != null ? addSpacePrefix : spm;
            return new TokenizerSpec(model, pre, tokens.clone(), scores == null ? null : scores.clone(),
                    tokenTypes == null ? null : tokenTypes.clone(), merges == null ? null : merges.clone(),
                    b, e, u, ab && b >= 0, asp);
        }

        private static void checkId(String key, int id, int n) {
            if (id < -1 || id >= n) {
                throw new IllegalArgumentException(key + " = " + id + " is outside the vocabulary (0.." + (n - 1) + ")");
            }
        }
    }

    /** The type of token {@code id}: NORMAL when the file has no type array. */
    public TokenType type(int id) {
        return tokenTypes == null ? TokenType.NORMAL : TokenType.of(tokenTypes[id]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizerSpec s && model.equals(s.model) && Objects.equals(pre, s.pre)
                && Arrays.equals(tokens, s.tokens) && Arrays.equals(scores, s.scores)
                && Arrays.equals(tokenTypes, s.tokenTypes) && Arrays.equals(merges, s.merges)
                && bos == s.bos && eos == s.eos && unknown == s.unknown && addBos == s.addBos
                && addSpacePrefix == s.addSpacePrefix;
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, pre, Arrays.hashCode(tokens), bos, eos);
    }

    @Override
    public String toString() {
        return "TokenizerSpec[model=" + model + ", pre=" + pre + ", tokens=" + tokens.length
                + ", merges=" + (merges == null ? 0 : merges.length) + ", bos=" + bos + ", eos=" + eos + "]";
    }
}

package dev.warmroute.engine.tokenizer;

/**
 * Text to token ids and back, for one model's vocabulary. Implementations are immutable and thread-safe; decoders
 * ({@link #newDecoder()}) hold per-stream state and are not.
 *
 * <p>Two families, chosen by GGUF's {@code tokenizer.ggml.model}: "llama" ({@link SentencePieceTokenizer}) and
 * "gpt2" ({@link BytePairTokenizer}). Build one with {@link #of(TokenizerSpec)}.
 */
public interface Tokenizer {

    static Tokenizer of(TokenizerSpec spec) {
        return switch (spec.model()) {
            case TokenizerSpec.LLAMA -> new SentencePieceTokenizer(spec);
            case TokenizerSpec.GPT2 -> new BytePairTokenizer(spec);
            default -> throw new IllegalArgumentException("tokenizer.ggml.model '" + spec.model()
                    + "' is not supported (supported: llama, gpt2)");
        };
    }

    /**
     * Encodes plain text: no BOS; SentencePiece vocabularies get their dummy leading space (as llama2.c and
     * llama.cpp do); control-token text such as {@code <|eot_id|>} is treated as ordinary characters, so user
     * content cannot inject control tokens.
     */
    default int[] encode(String text) {
        return encode(text, addsSpacePrefix(), false);
    }

    /**
     * Encodes text with explicit choices. {@code spacePrefix}: add SentencePiece's dummy leading space (ignored by
     * byte-level BPE, which has none). {@code parseSpecial}: text of control tokens becomes those tokens, and (as
     * llama.cpp does) the text after a control token gets the dummy prefix again when {@code spacePrefix} is set.
     * User-defined tokens are always matched as a whole, as in llama.cpp.
     */
    int[] encode(String text, boolean spacePrefix, boolean parseSpecial);

    /** Encodes text that continues earlier text: no dummy leading space, no control tokens. */
    default int[] encodeContinuation(String text) {
        return encode(text, false, false);
    }

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bos();

    /** End-of-sequence id, or -1 when the vocabulary has none. */
    int eos();

    int vocabSize();

    /** Whether prompts start with BOS ({@code tokenizer.ggml.add_bos_token}). */
    boolean addBos();

    /** Whether {@link #encode(String)} adds SentencePiece's dummy leading space. */
    boolean addsSpacePrefix();

    /** "llama" or "gpt2". */
    String model();

    /** The id of the token whose text is exactly {@code text}, or -1. Used to find control tokens by name. */
    int tokenId(String text);

    /** The token's text as stored in the vocabulary (e.g. "▁the", "Ġthe", "&lt;0x0A&gt;"). */
    String piece(int id);

    TokenType type(int id);

    /**
     * A stable hash (hex) of everything that decides the ids: model type, pre-tokenizer, vocabulary, scores, types,
     * merges, special ids and flags. Equal fingerprints mean equal ids for equal text, across processes, so stored
     * token ids may be reused.
     */
    String fingerprint();

    /**
     * A streaming decoder as llama2.c's {@code run} prints: the piece right after BOS loses its leading space,
     * {@code <0xXX>} pieces are raw bytes, control tokens print nothing, and only complete UTF-8 is returned.
     */
    default TextDecoder newDecoder() {
        return newDecoder(false);
    }

    /**
     * As {@link #newDecoder()}; with {@code dropLeadingSpace} the first piece also loses one leading space (the
     * dummy prefix of text encoded with {@link #encode(String)}).
     */
    TextDecoder newDecoder(boolean dropLeadingSpace);

    /** Decodes ids produced by {@link #encode(String)} back to the text (drops the dummy prefix if one is added). */
    default String decode(int[] ids) {
        TextDecoder d = newDecoder(addsSpacePrefix());
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        return sb.append(d.flush()).toString();
    }
}

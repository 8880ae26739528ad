package dev.warmroute.engine.tokenizer;

/**
 * The token types of GGUF's {@code tokenizer.ggml.token_type} array (llama.cpp's {@code llama_token_type}).
 * They decide how a token is encoded (control tokens only on request, user-defined ones always as a whole) and how
 * it is printed (control tokens print nothing, byte tokens print one raw byte).
 */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    private final int code;

    TokenType(int code) {
        this.code = code;
    }

    /** The number GGUF stores. */
    public int code() {
        return code;
    }

    /** The type for a GGUF code; codes outside 0..6 are {@link #UNDEFINED}, as llama.cpp treats them. */
    public static TokenType of(int code) {
        return code >= 1 && code <= 6 ? values()[code] : UNDEFINED;
    }
}
